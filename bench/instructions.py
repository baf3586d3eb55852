"""Benchmark: the work of one cold render, counted rather than timed, so two versions of dbfleet
can be compared at any hour of this host (its speed varies by up to two times within a day, and
interleaved timings by 5 to 30 %; these counts repeat to 0.1 %).

    python bench/instructions.py [--clusters 1000] [--jobs N] [CODE_DIR ...]

For each CODE_DIR (a checkout of dbfleet, put first on PYTHONPATH; none: the installed one; an
editable install finds the templates in its own folder for every checkout, so compare code, not
templates, this way),
renders the benchmark catalog (render_bench.py's) into an empty folder with an empty user cache,
as bench/targets.py's cold target does, and prints:
  instructions  user-space instructions of every process of the render (valgrind's callgrind;
                each forked process counted from its fork on), by process and in all
  page faults   of every process (perf stat), the part of the system's time that grows with memory
System calls and the time the system takes for them are not counted (creating 10,002 files is
about a tenth of the render's CPU). Needs valgrind (apt-get install valgrind) and perf.
Python's compiled bytecode is made by a first run that is not counted.

Under valgrind, OpenSSL finds no SHA extensions and hashes in software: sha256 is about a tenth
of these counts, and less of the CPU time on a machine with them.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from render_bench import catalog_text

# The render as `python -m renderer render` runs it, but for one thing: a forked process that has
# sent its result is waited for, not killed (valgrind writes no counts for a killed process).
DRIVER = """
import gc, os, sys
gc.disable()
import renderer.forked

def close(self):
    if self._child is not None:
        child, self._child = self._child, None
        for end in child[1:]:  # the pipes (a child that serves ends when the one it is asked on closes)
            if end is not None:
                os.close(end)
        os.waitpid(child[0], 0)

renderer.forked._Parent.close = close
sys.argv = ["dbfleet", "render", *sys.argv[1:]]
from renderer.cli import run
run()
"""


def render(repo: Path, code: str | None, jobs: int, wrapper: list[str]) -> None:
    shutil.rmtree(repo / "rendered", ignore_errors=True)
    cache = repo / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_CACHE_HOME=str(cache), PYTHONHASHSEED="0")  # the same dict and set orders in every run
    if code:
        env["PYTHONPATH"] = code
    done = subprocess.run([*wrapper, sys.executable, "-c", DRIVER, "-j", str(jobs)], cwd=repo, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"the render failed (exit {done.returncode}):\n{done.stderr[-2000:]}")


def counted(repo: Path, code: str | None, jobs: int) -> tuple[list[int], int]:
    """Instructions of each process (the first is the command's own), and the page faults of all."""
    out = repo / "callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    render(repo, code, jobs, [])  # bytecode, as an install has it
    render(repo, code, jobs, ["valgrind", "--tool=callgrind", "--trace-children=yes",
                              "--zero-before=PyOS_AfterFork_Child", f"--callgrind-out-file={out}/%p"])
    counts = []
    for path in sorted(out.iterdir(), key=lambda p: int(p.name)):
        totals = [line for line in path.read_text(errors="replace").splitlines() if line.startswith("totals:")]
        counts.append(int(totals[0].split()[1]))
    faults_file = repo / "faults"
    render(repo, code, jobs, ["perf", "stat", "-x,", "-e", "page-faults", "-o", str(faults_file)])
    faults = next(int(line.split(",")[0]) for line in faults_file.read_text().splitlines() if "page-faults" in line)
    return counts, faults


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("code", nargs="*", help="checkouts of dbfleet to compare (default: the installed one)")
    options = parser.parse_args()
    for tool in ("valgrind", "perf"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed")
    work = Path(tempfile.mkdtemp(prefix="dbfleet-instructions-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        (work / "catalog").mkdir()
        (work / "catalog" / "fleet.yaml").write_text(catalog_text(options.clusters))
        print(f"cold render of {options.clusters} clusters, -j {options.jobs}: instructions (G) of this process, "
              "the processes it forked, all; page faults")
        for code in options.code or [None]:
            counts, faults = counted(work, os.path.abspath(code) if code else None, options.jobs)
            each = " + ".join(f"{count / 1e9:.3f}" for count in counts)
            print(f"  {code or 'installed':<24} {each} = {sum(counts) / 1e9:.3f} G; {faults:,} page faults")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
