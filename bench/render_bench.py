"""Benchmark: a generated catalog of N PostgreSQL clusters (pooler, native backup, proxy,
monitoring, one logical database each), or of all five engines in turn (--mixed), timed stage by
stage.

    python bench/render_bench.py [--sizes 10,100,1000] [--schemas DIR] [--repeat 3] [--mixed]

Output is validated against the schemas embedded in dbfleet (--schemas adds a location first).

Prints seconds per stage (best of --repeat):
  load        read, parse, check the catalog's schema
  render      rules, templates, emit (one process)
  validate    every object against its schema (one process)
  both-jN     render and validate together in N forked processes (what `dbfleet render` does)
  write       atomic write into an empty folder (file creation: bound by the disk)
  write-1%    atomic write after 1% of the clusters changed (what a commit usually does)
  check       `render --check` with nothing changed (digest of inputs and output files)
  check-full  `render --check` that has to render and compare
and `full` = load + both-jN + write-1%, the cost of `dbfleet render` in a pre-commit hook.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

from renderer.catalog.load import load
from renderer.catalog.sources import read_sources
from renderer.commands import _digests
from renderer.rendering.build import render_all
from renderer.rendering.templating import Templates
from renderer.validate import Validators
from renderer.writing import output
from renderer.writing.fingerprint import builtin_templates_dir, code_digest

HEAD = """apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata:
  name: bench
spec:
  defaults:
    namespace: databases
    backup: {schedule: "0 3 * * *", retention: 14d, store: s3-main}
    monitoring: {enabled: true}
  backupStores:
    - name: s3-main
      s3: {bucket: bench-backups, region: eu-west-1, path: fleet, credentialsSecret: s3-creds}
  clusters:
"""
MIXED = [
    """    - name: my-{i}
      engine: mysql
      version: "8.0"
      replicas: 3
      storage: {{size: 50Gi}}
      pooler: {{enabled: true, replicas: 2}}
      backup: {{method: native, pitr: true}}
      databases: [{{name: app_{i}, owner: app_{i}}}]
""",
    """    - name: mongo-{i}
      engine: mongodb
      version: "8.0"
      replicas: 3
      storage: {{size: 30Gi}}
      sharding: {{enabled: true}}
      backup: {{method: native}}
      databases: [{{name: app_{i}, owner: app_{i}}}]
""",
    """    - name: kafka-{i}
      engine: kafka
      version: "4.3"
      replicas: 3
      storage: {{size: 100Gi}}
      topics: [{{name: events-{i}, partitions: 6}}]
      users: [{{name: app-{i}, write: [events-{i}]}}]
""",
    """    - name: lite-{i}
      engine: sqlite
      storage: {{size: 1Gi}}
      sqlite: {{initSQL: "CREATE TABLE IF NOT EXISTS t (x);"}}
      rest: {{enabled: true, allowedTables: [t], authSecret: jwt-{i}}}
""",
]
CLUSTER = """    - name: pg-{i}
      engine: postgresql
      version: "16"
      replicas: 3
      storage: {{size: 20Gi, class: fast-ssd}}
      resources: {{cpu: "1", memory: 2Gi}}
      parameters: {{max_connections: "200"}}
      pooler: {{enabled: true, replicas: 2, mode: transaction}}
      proxy: {{enabled: true}}
      databases: [{{name: app_{i}, owner: app_{i}}}]
"""


def catalog_text(n: int, mixed: bool = False) -> str:
    """N PostgreSQL clusters; with ``mixed``, the five engines in turn."""
    kinds = [CLUSTER] + MIXED if mixed else [CLUSTER]
    return HEAD + "".join(kinds[i % len(kinds)].format(i=i) for i in range(n))


T = TypeVar("T")


def best(repeat: int, func: Callable[[], T]) -> tuple[float, T]:
    times, results = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        results.append(func())
        times.append(time.perf_counter() - start)
    return min(times), results[-1]


def run(n: int, schemas: list[str], repeat: int, jobs: int, mixed: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="dbfleet-bench-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # what the check remembers: not in the user's cache
    try:
        path = work / "catalog.yaml"
        path.write_text(catalog_text(n, mixed))
        out = work / "rendered"
        figures: dict[str, float] = {}
        figures["load"], catalog = best(repeat, lambda: load([path], [], work))
        templates = Templates()
        figures["render"], bundle = best(repeat, lambda: render_all(catalog, templates))

        def validate() -> None:
            problems = Validators(schemas).validate(bundle.objects)
            assert not problems, problems[:3]

        figures["validate"], _ = best(repeat, validate)
        figures["both"], _ = best(repeat, lambda: render_all(catalog, templates, Validators(schemas), jobs))
        digests = _digests(read_sources([path], work), code_digest([builtin_templates_dir()]), ["default"])

        def write_fresh() -> None:
            shutil.rmtree(out, ignore_errors=True)
            output.write(out, bundle.files, ["default"])

        figures["write"], _ = best(repeat, write_fresh)
        changed = dict(bundle.files)
        clusters = sorted(k for k in changed if "/cluster-" in k)
        edits = [0]

        def write_one_percent() -> None:
            edits[0] += 1
            for key in clusters[:: 100]:
                changed[key] = bundle.files[key] + f"# edit {edits[0]}\n".encode()
            output.write(out, changed, ["default"])

        figures["write-1%"], _ = best(repeat, write_one_percent)
        output.write(out, bundle.files, ["default"])
        output.remember_inputs(out, digests)

        def check_fast() -> None:
            inputs = _digests(read_sources([path], work), code_digest([builtin_templates_dir()]), ["default"])
            assert output.up_to_date(out, output.read_manifest(out), inputs, lambda: output.scan(out))

        figures["check"], _ = best(repeat, check_fast)

        def check_full() -> None:
            fresh = render_all(load([path], [], work), Templates())
            assert output.diff(out, fresh.files, ["default"], "rendered", output.scan(out)) == ""

        figures["check-full"], _ = best(repeat, check_full)
        figures["objects"] = len(bundle.objects)
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--schemas", action="append", default=[], help="a schema location searched first (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mixed", action="store_true", help="all five engines in turn, not PostgreSQL only")
    args = parser.parse_args()
    stages = ["load", "render", "validate", "both", "write", "write-1%", "check", "check-full"]
    names = [f"both-j{args.jobs}" if s == "both" else s for s in stages]
    print(f"{'clusters':>8} {'objects':>8} " + " ".join(f"{s:>10}" for s in names) + f" {'full':>8}")
    for n in (int(s) for s in args.sizes.split(",")):
        f = run(n, args.schemas, args.repeat, args.jobs, args.mixed)
        full = f["load"] + f["both"] + f["write-1%"]
        print(f"{n:>8} {int(f['objects']):>8} " + " ".join(f"{f[s]:>10.3f}" for s in stages) + f" {full:>8.3f}")


if __name__ == "__main__":
    main()
