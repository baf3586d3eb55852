"""Benchmark: `dbfleet plan` and a day-2 command on the N-cluster benchmark catalog
(render_bench.py's), in a Git repository whose main branch holds the catalog and its output.

    python bench/plan_bench.py [--clusters 1000]

Prints wall seconds (the command as a user runs it: a new process) for:
  plan-unchanged   plan with nothing changed
  plan-one         plan after one cluster's storage grew
  plan-all         plan after every cluster's parameters changed (all objects differ)
  scale            dbfleet scale of one cluster (edit, two in-memory renders, render)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from render_bench import catalog_text

GIT = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@example.com"}


def timed(*args: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, env={**os.environ, **GIT})
    return time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=1000)
    n = parser.parse_args().clusters
    work = Path(tempfile.mkdtemp(prefix="dbfleet-plan-bench-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    try:
        os.chdir(work)
        (work / "catalog").mkdir()
        catalog = work / "catalog" / "fleet.yaml"
        catalog.write_text(catalog_text(n))
        for command in (["git", "init", "-q", "-b", "main"], ["dbfleet", "render"], ["git", "add", "-A"],
                        ["git", "commit", "-q", "-m", "fleet"]):
            subprocess.run(command, check=True, capture_output=True, env={**os.environ, **GIT})
        text = catalog.read_text()
        figures = {"plan-unchanged": timed("dbfleet", "plan")}
        head, tail = text.split("- name: pg-7\n", 1)
        catalog.write_text(head + "- name: pg-7\n" + tail.replace("size: 20Gi", "size: 40Gi", 1))
        figures["plan-one"] = timed("dbfleet", "plan")
        catalog.write_text(text.replace('max_connections: "200"', 'max_connections: "200", work_mem: 8MB'))
        figures["plan-all"] = timed("dbfleet", "plan")
        catalog.write_text(text)
        figures["scale"] = timed("dbfleet", "scale", "pg-7", "--replicas", "5")
        print(f"{n} clusters")
        for name, (seconds, code) in figures.items():
            print(f"  {name:<16} {seconds:6.2f} s   exit {code}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
