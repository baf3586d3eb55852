"""dbfleet plan in real Git repositories: a committed fleet, an edit, and what plan calls it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from tests.conftest import ROOT, run

FLEET = ROOT / "tests" / "plan" / "fleet.yaml"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout


def commit(message: str) -> None:
    git("add", "-A")
    git("commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose main branch holds the small fleet and its rendered output."""
    repo = tmp_path_factory.mktemp("fleet")
    (repo / "catalog").mkdir()
    shutil.copy(FLEET, repo / "catalog" / "fleet.yaml")
    cwd = Path.cwd()
    os.chdir(repo)
    try:
        git("init", "-q", "-b", "main")
        assert run("render").exit_code == 0
        commit("fleet")
    finally:
        os.chdir(cwd)
    return repo


@pytest.fixture
def repo(committed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "repo"
    shutil.copytree(committed, copy, symlinks=True)
    monkeypatch.chdir(copy)
    yield copy


def edit(path: str, old: str, new: str) -> None:
    file = Path(path)
    text = file.read_text()
    assert old in text, old
    file.write_text(text.replace(old, new, 1))


def plan_json(*args: str) -> tuple[int, dict]:
    result = run("plan", "--output", "json", *args)
    data = json.loads(result.stdout)
    return result.exit_code, data


def found(data: dict) -> set[tuple[str, str, str]]:
    return {(c["subject"], c["rule"], c["level"]) for c in data["plan"]["changes"]}


CATALOG = "catalog/fleet.yaml"
# (edit of the catalog, a change plan must find, exit code)
CASES = {
    "storage shrunk": ([("size: 20Gi, class", "size: 10Gi, class")], ("cluster orders", "storage-shrunk", "destructive"), 1),
    "storage grown": ([("size: 20Gi, class", "size: 40Gi, class")], ("cluster orders", "storage-grown", "safe"), 0),
    "storage class changed": ([("class: fast-ssd", "class: standard")],
                              ("cluster orders", "storage-class-changed", "destructive"), 1),
    "engine changed": ([('engine: mysql\n      version: "8.0"', 'engine: mongodb\n      version: "7.0"')],
                       ("cluster shop", "engine-changed", "destructive"), 1),
    "postgresql major downgrade": ([('version: "17.9"', 'version: "16"')],
                                   ("cluster orders", "version-downgrade", "destructive"), 1),
    "mysql downgrade": ([('version: "8.0"', 'version: "5.7"')], ("cluster shop", "version-downgrade", "destructive"), 1),
    "mongodb skips a major": ([('version: "6.0"', 'version: "8.0"')],
                              ("cluster docs", "version-skips-major", "destructive"), 1),
    "mongodb one major": ([('version: "6.0"', 'version: "7.0"')], ("cluster docs", "version-major", "disruptive"), 0),
    "postgresql major below 16": ([('version: "14"', 'version: "15"')],
                                  ("cluster legacy", "version-major", "destructive"), 1),
    "postgresql major, archive unchanged": ([('version: "17.9"', 'version: "18"')],
                                            ("cluster orders", "archive-across-majors", "destructive"), 1),
    "postgresql major, new archive": ([('version: "17.9"', 'version: "18"'),
                                       ("pooler: {enabled", "backup: {serverName: orders-pg18}\n      pooler: {enabled")],
                                      ("cluster orders", "version-major", "disruptive"), 0),
    "postgresql minor": ([('version: "17.9"', 'version: "17.10"')], ("cluster orders", "version-minor", "disruptive"), 0),
    "restart parameter": ([('max_connections: "200"', 'max_connections: "300"')],
                          ("cluster orders", "parameters-restart", "disruptive"), 0),
    "reloaded parameter": ([("work_mem: 4MB", "work_mem: 8MB")], ("cluster orders", "parameters-reload", "safe"), 0),
    "scale up": ([("replicas: 3\n      storage: {size: 20Gi", "replicas: 5\n      storage: {size: 20Gi")],
                 ("cluster orders", "scale-up", "safe"), 0),
    "scale down": ([("replicas: 3\n      storage: {size: 20Gi", "replicas: 2\n      storage: {size: 20Gi")],
                   ("cluster orders", "scale-down", "disruptive"), 0),
    "resources": ([("memory: 2Gi", "memory: 4Gi")], ("cluster orders", "resources-changed", "disruptive"), 0),
    "pooler mode": ([("mode: session", "mode: transaction")], ("cluster orders", "pooler-mode", "disruptive"), 0),
    "restore on an existing cluster": ([("      storage: {size: 5Gi}", "      storage: {size: 5Gi}\n      restore: {fromStore: s3-other}")],
                                       ("cluster legacy", "restore-on-existing", "destructive"), 1),
    "backup store changed": ([("    backup: {store: s3-main,", "    backup: {store: s3-other,")],
                             ("cluster orders", "backup-store-changed", "destructive"), 1),
    "retention shortened": ([("retention: 14d", "retention: 7d")], ("database billing", "retention-shortened", "destructive"), 1),
    "backups stopped": ([("backup: {method: dump}", "backup: {method: none}")],
                        ("database billing", "backups-stopped", "destructive"), 1),
    "topic partitions reduced": ([("partitions: 6", "partitions: 3")],
                                 ("cluster events", "topic-partitions-reduced", "destructive"), 1),
    "topic removed": ([("      topics:\n        - {name: orders.created, partitions: 6}\n", "")],
                      ("cluster events", "topic-removed", "destructive"), 1),
    "sqlite volume access mode": ([("storage: {size: 1Gi}", "storage: {size: 1Gi, accessMode: ReadWriteMany}")],
                                  ("cluster notes", "immutable-field", "destructive"), 1),
    "provisioning job template": ([("owner: billing_app", "owner: billing_owner")],
                                  ("database billing", "object-replaced", "disruptive"), 0),
    "cluster removed": ([("    - name: legacy\n      engine: postgresql\n      version: \"14\"\n      storage: {size: 5Gi}\n", "")],
                        ("cluster legacy", "entry-removed", "destructive"), 1),
    "cluster renamed": ([("name: legacy", "name: legacy2")], ("cluster legacy", "entry-removed", "destructive"), 1),
    "namespace changed": ([("    - name: legacy\n", "    - name: legacy\n      namespace: old-stuff\n")],
                          ("cluster legacy", "moved", "destructive"), 1),
    "cluster added": ([("  servers:", "    - {name: fresh, engine: postgresql, version: \"18\", storage: {size: 1Gi}}\n  servers:")],
                      ("cluster fresh", "entry-added", "safe"), 0),
}


@pytest.mark.parametrize("edits, expected, code", CASES.values(), ids=CASES.keys())
def test_each_rule_classifies_its_change(repo: Path, edits: list[tuple[str, str]], expected: tuple[str, str, str],
                                         code: int) -> None:
    for old, new in edits:
        edit(CATALOG, old, new)
    exit_code, data = plan_json()
    assert expected in found(data)
    assert exit_code == code, data["plan"]["changes"]
    change = next(c for c in data["plan"]["changes"] if (c["subject"], c["rule"]) == expected[:2])
    assert change["evidence"] and change["file"]


def test_an_unchanged_fleet_has_no_changes(repo: Path) -> None:
    exit_code, data = plan_json()
    assert (exit_code, data["plan"]["changes"]) == (0, [])
    assert data["plan"]["base"] == "the merge base with main"


def test_destructive_is_allowed_by_a_reason_written_in_the_change(repo: Path) -> None:
    edit(CATALOG, "size: 20Gi, class", "size: 10Gi, class")
    edit(CATALOG, "    - name: orders\n", '    - name: orders\n      allowDestructive: "migrated to a new volume 2026-12-01"\n')
    result = run("plan")
    assert result.exit_code == 0, result.stdout
    assert "allowed: migrated to a new volume 2026-12-01" in result.stdout
    # The reason is for that change: once merged, it allows nothing more.
    commit("shrink")
    edit(CATALOG, "size: 10Gi, class", "size: 5Gi, class")
    exit_code, data = plan_json("--base", "HEAD")
    assert exit_code == 1
    assert any("unchanged since HEAD" in note for note in data["plan"]["notes"])


def test_a_removal_is_allowed_by_a_decommissioned_reason(repo: Path) -> None:
    edit(CATALOG, "    - name: legacy\n      engine: postgresql\n      version: \"14\"\n      storage: {size: 5Gi}\n", "")
    edit(CATALOG, "  servers:", "  decommissioned:\n    - {name: legacy, reason: \"dumped to s3-main, 2026-11-22\"}\n  servers:")
    exit_code, data = plan_json()
    assert exit_code == 0
    removed = next(c for c in data["plan"]["changes"] if c["rule"] == "entry-removed")
    assert removed["allowedBecause"] == "dumped to s3-main, 2026-11-22"
    assert removed["file"] == "main:catalog/fleet.yaml" or removed["file"].endswith(":catalog/fleet.yaml")


def test_allow_destructive_flag_and_the_reports(repo: Path) -> None:
    edit(CATALOG, 'version: "17.9"', 'version: "16"')
    assert run("plan", "--allow-destructive").exit_code == 0
    text = run("plan")
    assert text.exit_code == 1
    assert "DESTRUCTIVE  cluster orders: version 17.9 -> 16 [version-downgrade]" in text.stdout
    assert "catalog/fleet.yaml:17:7" in text.stdout  # the version's key
    markdown = run("plan", "--output", "markdown").stdout
    assert "| environment | destructive | disruptive | safe |" in markdown
    assert "| default | 1 |" in markdown
    assert "🛑 destructive | cluster orders | version 17.9 -> 16 | `version-downgrade` |" in markdown


def test_the_default_base_is_where_the_branch_left_main(repo: Path) -> None:
    git("checkout", "-q", "-b", "shrink")
    edit(CATALOG, "size: 20Gi, class", "size: 10Gi, class")
    assert run("render").exit_code == 0
    commit("shrink orders")  # committed on the branch: HEAD alone would show nothing
    exit_code, data = plan_json()
    assert exit_code == 1
    assert ("cluster orders", "storage-shrunk", "destructive") in found(data)
    assert plan_json("--base", "HEAD")[1]["plan"]["changes"] == []


def test_what_the_output_does_whatever_changed_it(repo: Path) -> None:
    """A new dbfleet (or template) can change the output with no catalog edit: an image of
    another OS, an immutable field of a StatefulSet.  Plan compares the committed output."""
    cluster = Path("rendered/default/databases/orders/cluster-orders.yaml")
    statefulset = Path("rendered/default/databases/notes/statefulset-notes.yaml")
    cluster.write_text(cluster.read_text().replace("-system-trixie", "-system-bookworm"))
    statefulset.write_text(statefulset.read_text().replace("podManagementPolicy: OrderedReady", "podManagementPolicy: Parallel"))
    commit("as an older dbfleet rendered it")
    exit_code, data = plan_json("--base", "HEAD")
    assert exit_code == 1
    assert {("cluster orders", "os-base-changed", "destructive"),
            ("cluster notes", "immutable-field", "destructive")} <= found(data)


def test_every_environment_is_compared(repo: Path) -> None:
    Path("overlays").mkdir()
    Path("overlays/prod.yaml").write_text("apiVersion: dbfleet.dev/v1alpha1\nkind: Overlay\nmetadata: {name: prod}\n"
                                          "spec:\n  clusters:\n    - {name: orders, storage: {size: 50Gi}}\n")
    Path("overlays/dev.yaml").write_text("apiVersion: dbfleet.dev/v1alpha1\nkind: Overlay\nmetadata: {name: dev}\n"
                                         "spec: {servers: [{name: shared-pg, host: pg-dev.example.com}]}\n")
    assert run("render").exit_code == 0
    commit("two environments")
    Path("overlays/dev.yaml").unlink()  # dev goes: each of its entries with it
    edit("overlays/prod.yaml", "size: 50Gi", "size: 40Gi")
    exit_code, data = plan_json("--base", "HEAD")
    assert exit_code == 1
    changes = {(c["environment"], c["subject"], c["rule"]) for c in data["plan"]["changes"]}
    assert {("prod", "cluster orders", "storage-shrunk"), ("dev", "cluster orders", "entry-removed"),
            ("dev", "database billing", "entry-removed")} <= changes
    assert data["plan"]["changes"][0]["file"] in ("overlays/prod.yaml", "HEAD:catalog/fleet.yaml")
    only = plan_json("--base", "HEAD", "--env", "prod")[1]["plan"]
    assert set(only["environments"]) == {"prod"}


@pytest.mark.parametrize("args, message", [
    (["--base", "no-such-ref"], "'no-such-ref' is not a commit"),
    (["--env", "nope"], "no environment 'nope'"),
])
def test_bad_input_exits_2(repo: Path, args: list[str], message: str) -> None:
    result = run("plan", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_broken_catalog_exits_2(repo: Path) -> None:
    edit(CATALOG, "replicas: 3\n      storage: {size: 20Gi", "replicas: -1\n      storage: {size: 20Gi")
    result = run("plan")
    assert result.exit_code == 2
    assert "catalog/fleet.yaml:18:" in result.stderr


def test_outside_git_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "catalog").mkdir()
    shutil.copy(FLEET, tmp_path / "catalog" / "fleet.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = run("plan")
    assert result.exit_code == 2
    assert "not inside a Git working tree" in result.stderr


def test_the_scaffolded_workflow_posts_the_plan(repo: Path, tmp_path: Path) -> None:
    """The plan step of the workflow dbfleet init writes, run as GitHub runs it (bash -e), in a
    clone whose base branch is a remote-tracking one, as actions/checkout leaves it."""
    workflow = yaml.safe_load((ROOT / "renderer" / "scaffold" / "github-workflow.yaml").read_text())
    script = next(step["run"] for step in workflow["jobs"]["plan"]["steps"] if step.get("id") == "plan")
    git("clone", "-q", "--bare", ".", str(tmp_path / "origin.git"))
    git("remote", "add", "origin", str(tmp_path / "origin.git"))
    git("fetch", "-q", "origin")
    git("checkout", "-q", "-b", "shrink")
    edit(CATALOG, "size: 20Gi, class", "size: 10Gi, class")
    commit("shrink orders")
    outputs = tmp_path / "github-output"
    env = {**os.environ, **GIT_ENV, "GITHUB_BASE_REF": "main", "GITHUB_OUTPUT": str(outputs),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", "-e", "-c", script], env=env, check=True)
    assert outputs.read_text() == "code=1\n"
    comment = Path("plan.md").read_text()
    assert comment.startswith("### 🛑 dbfleet plan: 1 destructive change")
    assert "| 🛑 destructive | cluster orders | storage 20Gi -&gt; 10Gi" not in comment
    assert "| 🛑 destructive | cluster orders | storage 20Gi -> 10Gi | `storage-shrunk` |" in comment


def test_catalog_text_cannot_break_the_reports(repo: Path) -> None:
    edit(CATALOG, "size: 20Gi, class", "size: 10Gi, class")
    edit(CATALOG, "    - name: orders\n", '    - name: orders\n      allowDestructive: "a | b <img src=x> \\e[31m red"\n')
    markdown = run("plan", "--output", "markdown").stdout
    assert "(allowed: a \\| b &lt;img src=x> ?\\[31m red)" in markdown
    assert "<img" not in markdown and "\x1b" not in markdown
    text = run("plan").stdout
    assert "\x1b" not in text and "allowed: a | b <img src=x> ?[31m red" in text
