"""Day-2 commands: each edits the catalog as a person would (byte for byte), refuses what plan
calls destructive, and renders."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run, tree

PROD = """\
# Production.
apiVersion: dbfleet.dev/v1alpha1
kind: Overlay
metadata: {name: prod}
spec:
  clusters:
    - name: orders
      storage: {size: 50Gi}   # grown in March
"""
DEV = """\
apiVersion: dbfleet.dev/v1alpha1
kind: Overlay
metadata: {name: dev}
spec:
  servers:
    - {name: shared-pg, host: pg-dev.example.com}
"""


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "overlays").mkdir()
    shutil.copy(ROOT / "tests" / "plan" / "fleet.yaml", tmp_path / "catalog" / "fleet.yaml")
    (tmp_path / "overlays" / "prod.yaml").write_text(PROD)
    (tmp_path / "overlays" / "dev.yaml").write_text(DEV)
    monkeypatch.chdir(tmp_path)
    assert run("render").exit_code == 0
    return tmp_path


def diff_of(before: dict[str, bytes], path: str) -> str:
    old = before[path].decode().splitlines(True)
    new = Path(path).read_text().splitlines(True)
    return "".join(difflib.unified_diff(old, new, n=0))[len("--- \n+++ \n"):]


def rendered(path: str) -> dict:
    return yaml.safe_load(Path("rendered", path).read_text())


COMMANDS = {
    "scale with the pooler": (
        ["scale", "orders", "--replicas", "5", "--pooler-replicas", "3"], "catalog/fleet.yaml",
        "@@ -18 +18 @@\n-      replicas: 3\n+      replicas: 5\n"
        "@@ -22 +22 @@\n-      pooler: {enabled: true, replicas: 2, mode: session}\n"
        "+      pooler: {enabled: true, replicas: 3, mode: session}\n",
        ("prod/databases/orders/cluster-orders.yaml", ["spec", "instances"], 5)),
    "scale a key the entry lacks": (
        ["scale", "legacy", "--replicas", "2"], "catalog/fleet.yaml",
        "@@ -29,0 +30 @@\n+      replicas: 2\n",
        ("dev/databases/legacy/cluster-legacy.yaml", ["spec", "instances"], 2)),
    "resize in an overlay, keeping its comment": (
        ["resize", "orders", "--storage", "60Gi", "--env", "prod"], "overlays/prod.yaml",
        "@@ -8 +8 @@\n-      storage: {size: 50Gi}   # grown in March\n+      storage: {size: 60Gi}   # grown in March\n",
        ("prod/databases/orders/cluster-orders.yaml", ["spec", "storage", "size"], "60Gi")),
    "resize an entry the overlay lacks": (
        ["resize", "shop", "--storage", "20Gi", "--env", "dev"], "overlays/dev.yaml",
        "@@ -6,0 +7,2 @@\n+  clusters:\n+    - {name: shop, storage: {size: 20Gi}}\n",
        ("dev/databases/shop/perconaxtradbcluster-shop.yaml",
         ["spec", "pxc", "volumeSpec", "persistentVolumeClaim", "resources", "requests", "storage"], "20Gi")),
    "postgresql major: version and archive": (
        ["upgrade", "orders", "--version", "18"], "catalog/fleet.yaml",
        '@@ -17 +17 @@\n-      version: "17.9"            # the build we certified\n'
        '+      version: "18"              # the build we certified\n'
        "@@ -25,0 +26 @@\n+      backup: {serverName: orders-pg18}\n",
        ("dev/databases/orders/cluster-orders.yaml", ["spec", "plugins", 0, "parameters", "serverName"], "orders-pg18")),
    "mongodb one major": (
        ["upgrade", "docs", "--version", "7.0"], "catalog/fleet.yaml",
        '@@ -37 +37 @@\n-      version: "6.0"\n+      version: "7.0"\n',
        ("dev/databases/docs/perconaservermongodb-docs.yaml", ["spec", "image"], "percona/percona-server-mongodb:7.0.30-16")),
    "restart": (
        ["restart", "docs", "--at", "2026-11-22T08:00:00Z"], "catalog/fleet.yaml",
        '@@ -39,0 +40 @@\n+      restartedAt: "2026-11-22T08:00:00Z"\n',
        ("dev/databases/docs/perconaservermongodb-docs.yaml", ["spec", "replsets", 0, "annotations"],
         {"kubectl.kubernetes.io/restartedAt": "2026-11-22T08:00:00Z"})),
    "restart postgresql": (
        ["restart", "orders", "--at", "2026-11-22T08:00:00Z"], "catalog/fleet.yaml",
        '@@ -25,0 +26 @@\n+      restartedAt: "2026-11-22T08:00:00Z"\n',
        ("dev/databases/orders/cluster-orders.yaml", ["metadata", "annotations", "kubectl.kubernetes.io/restartedAt"],
         "2026-11-22T08:00:00Z")),
    "on-demand dump": (
        ["backup", "billing", "--id", "before-migration"], "catalog/fleet.yaml",
        "@@ -57 +57 @@\n-      backup: {method: dump}\n+      backup: {method: dump, onDemand: before-migration}\n",
        ("dev/databases/billing/job-billing-backup-before-migration.yaml",
         ["metadata", "annotations", "kustomize.toolkit.fluxcd.io/ssa"], "IfNotPresent")),
    "on-demand native": (
        ["backup", "shop", "--id", "manual-1"], "catalog/fleet.yaml",
        "@@ -34,0 +35 @@\n+      backup: {onDemand: manual-1}\n",
        ("prod/databases/shop/perconaxtradbclusterbackup-shop-manual-1.yaml", ["spec"],
         {"pxcCluster": "shop", "storageName": "s3-main"})),
    "restore a database into a new one": (
        ["restore", "billing-restored", "--from", "billing"], "catalog/fleet.yaml",
        "@@ -57,0 +58,6 @@\n+    - name: billing-restored\n+      on: shared-pg\n+      backup: {method: dump}\n"
        "+      owner: billing_restored\n+      credentialsSecret: billing-restored-db\n"
        "+      restore: {fromStore: s3-main, dump: latest}\n",
        ("dev/databases/billing-restored/job-billing-restored-restore.yaml", ["kind"], "Job")),
    "restore a cluster to a time, in one environment": (
        ["restore", "legacy-restored", "--from", "legacy", "--to-time", "2026-11-21T10:00:00Z", "--env", "dev"],
        "overlays/dev.yaml",
        "@@ -6,0 +7,6 @@\n+  clusters:\n+    - name: legacy-restored\n+      engine: postgresql\n+      version: \"14\"\n"
        "+      storage: {size: 5Gi}\n"
        '+      restore: {fromStore: s3-main, sourceCluster: legacy, pointInTime: "2026-11-21T10:00:00Z"}\n',
        ("dev/databases/legacy-restored/cluster-legacy-restored.yaml", ["spec", "bootstrap", "recovery", "recoveryTarget"],
         {"targetTime": "2026-11-21T10:00:00Z"})),
}


@pytest.mark.parametrize("args, path, expected, output", COMMANDS.values(), ids=COMMANDS.keys())
def test_each_command_edits_like_a_person_and_renders(fleet: Path, args: list[str], path: str, expected: str,
                                                      output: tuple[str, list, object]) -> None:
    before = tree(fleet)
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert diff_of(before, path) == expected
    assert f"--- a/{path}" in result.stdout  # the edit is shown
    changed = {p for p, data in tree(fleet).items() if before.get(p) != data and not p.startswith("rendered/")}
    assert changed == {path}
    value: object = rendered(output[0])
    for step in output[1]:
        value = value[step]  # type: ignore[index]
    assert value == output[2]
    assert run("render", "--check").exit_code == 0  # what was rendered is what the edited catalog renders


REFUSED = {
    "shrink": (["resize", "orders", "--storage", "10Gi"], "storage-shrunk"),
    "skip a mongodb major": (["upgrade", "docs", "--version", "8.0"], "version-skips-major"),
    "mysql downgrade": (["upgrade", "shop", "--version", "5.7"], "version-downgrade"),
    "postgresql below 16": (["upgrade", "legacy", "--version", "15"], "version-major"),
}


@pytest.mark.parametrize("args, rule", REFUSED.values(), ids=REFUSED.keys())
def test_destructive_edits_are_refused_unless_allowed(fleet: Path, args: list[str], rule: str) -> None:
    before = tree(fleet)
    result = run(*args)
    assert result.exit_code == 2
    assert f"[{rule}]" in result.stderr and "pass --allow-destructive" in result.stderr
    assert result.stderr.count(": error: ") == 1  # one problem, naming every environment it reaches
    assert tree(fleet) == before
    allowed = run(*args, "--allow-destructive")
    assert allowed.exit_code == 0, allowed.output
    assert "(destructive)" in allowed.stderr


def test_an_edit_the_overlays_override_is_said(fleet: Path) -> None:
    result = run("resize", "orders", "--storage", "30Gi")
    assert result.exit_code == 0
    assert "overlays/prod.yaml:8:17: warning: prod sets storage.size of orders itself" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["scale", "nope", "--replicas", "2"], "no cluster named 'nope'"),
    (["scale", "ordres", "--replicas", "2"], "did you mean 'orders'?"),
    (["scale", "orders"], "give --replicas, --pooler-replicas or both"),
    (["scale", "legacy", "--pooler-replicas", "2"], "legacy has no pooler"),
    (["scale", "shop", "--replicas", "4"], "odd"),
    (["upgrade", "orders", "--version", "19"], "version"),
    (["restore", "orders", "--from", "legacy"], "'orders' is taken"),
    (["restore", "billing-2", "--from", "billing", "--to-time", "2026-11-21T10:00:00Z"], "a dump restores whole"),
    (["backup", "notes"], "Litestream replicates every change"),
    (["restart", "orders", "--env", "qa"], "no environment 'qa'"),
])
def test_bad_requests_exit_2_and_write_nothing(fleet: Path, args: list[str], message: str) -> None:
    before = tree(fleet)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert tree(fleet) == before


def test_a_symlinked_catalog_file_is_not_written_through(fleet: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.yaml"
    shutil.move(str(fleet / "catalog" / "fleet.yaml"), real)
    (fleet / "catalog" / "fleet.yaml").symlink_to(real)
    before = real.read_bytes()
    result = run("scale", "orders", "--replicas", "5")
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert real.read_bytes() == before


@pytest.mark.parametrize("command", ["scale", "resize", "upgrade", "restart", "backup", "restore"])
def test_each_command_says_its_exit_codes(command: str) -> None:
    help_text = run(command, "--help").stdout
    assert "  Exit codes:\n    0  edited and rendered\n    2  refused" in help_text
