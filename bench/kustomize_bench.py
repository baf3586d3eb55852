"""Benchmark: `kubectl kustomize` on every root a rendered GitOps object points at, for the
N-cluster benchmark catalog (render_bench.py's), in both dialects.  The target: each root under
1 s at 1,000 clusters, and GitOps objects proportional to the entries.

    python bench/kustomize_bench.py [--clusters 1000] [--dialects flux,argocd]

Prints, per dialect: entries, GitOps objects, roots built, and the slowest, median and total
build times.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from render_bench import catalog_text

from renderer.catalog.load import load
from renderer.rendering.build import render_all
from renderer.rendering.templating import Templates
from renderer.writing import output

GITOPS = "  gitops: {{engine: {engine}, repoURL: 'https://git.example.com/fleet.git'}}\n"


def roots(env: Path, dialect: str) -> list[Path]:
    """The bootstrap folder, and every folder a GitOps object it makes points at."""
    found = [env / "gitops"]
    if dialect == "argocd":
        found += [env.parent.parent / json.loads(p.read_text())["folder"] for p in sorted((env / "gitops/units").glob("*.json"))]
    else:
        for path in sorted((env / "gitops").rglob("kustomization-*.yaml")):
            found.append(env.parent.parent / yaml.safe_load(path.read_text())["spec"]["path"])
    return found


def run(clusters: int, dialect: str, kubectl: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="dbfleet-kustomize-"))
    try:
        text = catalog_text(clusters).replace("  clusters:\n", GITOPS.format(engine=dialect) + "  clusters:\n", 1)
        (work / "catalog.yaml").write_text(text)
        bundle = render_all(load([work / "catalog.yaml"], [], work), Templates())
        output.write(work / "rendered", bundle.files, ["default"])
        env = work / "rendered" / "default"
        gitops = sum(1 for o in bundle.objects if o.path.startswith("default/gitops/")) + sum(
            1 for p in bundle.files if p.endswith(".json"))
        times = []
        for root in roots(env, dialect):
            start = time.perf_counter()
            subprocess.run([kubectl, "kustomize", str(root)], check=True, capture_output=True, cwd=work)
            times.append(time.perf_counter() - start)
        print(f"{dialect:>7} {clusters:>8} {gitops:>7} {len(times):>6} {max(times):>8.3f} {statistics.median(times):>8.3f} "
              f"{sum(times):>8.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--dialects", default="flux,argocd")
    args = parser.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not installed")
    print(f"{'dialect':>7} {'clusters':>8} {'gitops':>7} {'roots':>6} {'slowest':>8} {'median':>8} {'total':>8}")
    for dialect in args.dialects.split(","):
        run(args.clusters, dialect, kubectl)


if __name__ == "__main__":
    main()
