"""The commands end to end, as a user in a repository runs them."""
from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from renderer import commands
from renderer.catalog.positioned import load_documents
from renderer.catalog.schema import SCHEMAS
from renderer.errors import DbfleetError
from renderer.validate import chart_values, is_core
from renderer.writing import output
from tests.conftest import GOLDEN, ROOT, run, tree

# The objects to apply: not the files read as they are (kustomizations, ApplicationSet
# parameters, the argocd-cm patch).
GOLDEN_OBJECTS = [yaml.safe_load(data) for path, data in tree(GOLDEN).items()
                  if not path.endswith(("kustomization.yaml", ".json", "argocd-cm-health.yaml"))]
CRD_KINDS = {o["kind"] for o in GOLDEN_OBJECTS if not is_core(o["apiVersion"])}
CHARTS = {chart[:2] for o in GOLDEN_OBJECTS if (chart := chart_values(o))}


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def test_render_then_check_is_clean_and_writes_nothing(workdir: Path) -> None:
    assert run("render").exit_code == 0
    before = tree(workdir)
    result = run("render", "--check")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stderr
    assert tree(workdir) == before


@pytest.mark.parametrize("fast_path", [True, False])
def test_check_reports_a_stale_output_with_a_unified_diff(workdir: Path, fast_path: bool, schema_cache: Path) -> None:
    assert run("render").exit_code == 0
    if not fast_path:  # a fresh clone: nothing remembers the inputs, the check must render and compare
        shutil.rmtree(schema_cache.parent)
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    before = tree(workdir)
    result = run("render", "--check")
    assert result.exit_code == 1
    assert "--- a/rendered/prod/databases/orders/cluster-orders.yaml" in result.stdout
    assert '-    size: "100Gi"\n+    size: "200Gi"\n' in result.stdout
    assert "dev/" not in result.stdout
    assert tree(workdir) == before


def test_check_notices_a_hand_edited_file(workdir: Path) -> None:
    assert run("render").exit_code == 0
    edited = workdir / "rendered" / "dev" / "databases-dev" / "orders" / "cluster-orders.yaml"
    edited.write_text(edited.read_text().replace("instances: 1", "instances: 5"))
    result = run("render", "--check")
    assert result.exit_code == 1
    assert "-  instances: 5\n+  instances: 1\n" in result.stdout


def test_render_prunes_what_it_no_longer_renders(workdir: Path) -> None:
    assert run("render").exit_code == 0
    catalog = workdir / "catalog" / "postgresql.yaml"
    text = catalog.read_text()
    catalog.write_text(text[: text.index("    # A new cluster restored")])
    dev = workdir / "overlays" / "dev.yaml"
    dev.write_text(dev.read_text().replace("    - name: billing\n      replicas: 1\n      storage: {size: 5Gi}\n", ""))
    result = run("render")
    assert result.exit_code == 0, result.output
    files = tree(workdir / "rendered")
    assert not any("/billing/" in path for path in files)
    assert "billing" not in files["prod/databases/kustomization.yaml"].decode()
    assert run("render", "--check").exit_code == 0


def test_render_refuses_foreign_files_and_deletes_nothing(workdir: Path) -> None:
    assert run("render").exit_code == 0
    foreign = workdir / "rendered" / "dev" / "notes.md"
    foreign.write_text("mine")
    before = tree(workdir)
    result = run("render")
    assert result.exit_code == 2
    assert errors_of(result.stderr)[0].startswith("rendered/dev/notes.md: error: not written by dbfleet")
    assert tree(workdir) == before


def test_render_refuses_a_folder_it_does_not_own(workdir: Path) -> None:
    (workdir / "rendered").mkdir()
    (workdir / "rendered" / "app.yaml").write_text("kind: ConfigMap\n")
    assert run("render").exit_code == 2
    assert (workdir / "rendered" / "app.yaml").read_text() == "kind: ConfigMap\n"


def test_one_environment_keeps_the_others(workdir: Path) -> None:
    assert run("render").exit_code == 0
    prod_before = {k: v for k, v in tree(workdir / "rendered").items() if k.startswith("prod/")}
    dev = workdir / "overlays" / "dev.yaml"
    dev.write_text(dev.read_text().replace("replicas: 1\n      storage: {size: 5Gi}\n      pooler", "replicas: 2\n      storage: {size: 5Gi}\n      pooler"))
    assert run("render", "--env", "dev").exit_code == 0
    after = tree(workdir / "rendered")
    assert {k: v for k, v in after.items() if k.startswith("prod/")} == prod_before
    assert b"instances: 2" in after["dev/databases-dev/orders/cluster-orders.yaml"]
    assert run("render", "--check").exit_code == 0
    assert run("render", "--env", "staging").exit_code == 2


FULL_DISK = OSError(28, "No space left on device")


@pytest.mark.parametrize("held", [False, True], ids=["one-process", "held-by-renderers"])
@pytest.mark.parametrize(("dies_at", "error", "code"), [
    ("cluster-orders.yaml", KeyboardInterrupt, 130), (output.MANIFEST, KeyboardInterrupt, 130),
    ("cluster-orders.yaml", FULL_DISK, 2),  # with "cannot write: No space left on device; the previous output is as it was"
])
def test_an_interrupted_render_leaves_the_previous_output(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, dies_at: str, error: BaseException | type[BaseException], code: int,
    held: bool,
) -> None:
    """``held``: the units are rendered by two processes, and the other one creates its files
    (where it fails too, this one writes them, and fails)."""
    import renderer.rendering.build

    if held:
        monkeypatch.setattr(renderer.rendering.build, "PARALLEL_FROM", 1)
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    real_create, real_write = output._create, Path.write_bytes

    def dying_create(path: str, data: bytes) -> tuple[int, int, int]:
        if path.rpartition("/")[2] == dies_at:
            raise error
        return real_create(path, data)

    def dying_write(self: Path, data: bytes) -> int:  # the manifest
        if self.name == dies_at:
            raise error
        return real_write(self, data)

    with monkeypatch.context() as patch:
        patch.setattr(output, "_create", dying_create)
        patch.setattr(Path, "write_bytes", dying_write)
        result = run("render")
    assert result.exit_code == code
    if code == 2:
        assert "error: cannot write: No space left on device; the previous output is as it was" in result.stderr
    assert tree(workdir / "rendered") == before
    assert run("render").exit_code == 0  # the next run cleans up the half-built folder
    assert not list(workdir.glob("rendered.dbfleet-*"))
    assert b"200Gi" in tree(workdir / "rendered")["prod/databases/orders/cluster-orders.yaml"]


class Killed(BaseException):
    """A process killed with SIGKILL: nothing of it runs any more."""


@pytest.mark.parametrize("killed", [False, True], ids=["interrupted", "killed"])
@pytest.mark.parametrize("moving", ["dbfleet-old", "dbfleet-new"], ids=["into-the-backup", "into-place"])
def test_a_replacement_cut_halfway_is_undone(workdir: Path, monkeypatch: pytest.MonkeyPatch, killed: bool,
                                             moving: str) -> None:
    """Later renders replace only the files that changed, as a transaction: cut after some of the
    old files went to the backup and some new ones came in, the previous output comes back, at
    once (an exception) or on the next run (a killed process)."""
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    sqlite = workdir / "catalog" / "sqlite.yaml"
    text = sqlite.read_text()
    start, end = text.index("    # A database served over HTTP"), text.index("    # The app's own Deployment")
    sqlite.write_text(text[:start] + text[end:])  # the sessions cluster goes: its folders too
    real_rename, renames = os.rename, []

    def dying_rename(source: Any, target: Any) -> None:
        if moving in str(target if moving == "dbfleet-old" else source):  # the third move of that phase
            renames.append(target)
        if len(renames) == 3:
            raise Killed() if killed else KeyboardInterrupt()
        real_rename(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", dying_rename)
        if killed:
            patch.setattr(output, "_roll_back", lambda out, old: None)
            with pytest.raises(Killed):
                run("render")
        else:
            assert run("render").exit_code == 130
    if killed:  # the backup and its journal wait for the next run
        assert (workdir / "rendered.dbfleet-old" / output.JOURNAL).is_file()
        assert tree(workdir / "rendered") != before
        assert run("render", "--check").exit_code == 1  # it puts the previous output back, then compares
    assert tree(workdir / "rendered") == before
    assert not list(workdir.glob("rendered.dbfleet-*"))
    assert run("render").exit_code == 0
    after = tree(workdir / "rendered")
    assert b"200Gi" in after["prod/databases/orders/cluster-orders.yaml"]
    assert not any(path.startswith("prod/databases/sessions/") for path in after)
    assert not (workdir / "rendered" / "prod" / "databases" / "sessions").exists()  # no empty folder left
    assert run("render", "--check").exit_code == 0


def test_a_read_only_parent_folder_is_an_error_not_a_traceback(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores permissions: refuse the mkdir as the kernel would for anyone else.
    real_mkdir = Path.mkdir

    def refused(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith("rendered"):
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    result = run("render")
    assert result.exit_code == 2
    assert "rendered.dbfleet-new: error: cannot write: Permission denied; the previous output is as it was" in result.stderr
    assert not list(workdir.glob("rendered*"))


def test_a_swap_cut_between_its_two_renames_is_undone(workdir: Path) -> None:
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    os.rename(workdir / "rendered", workdir / "rendered.dbfleet-old")
    (workdir / "rendered.dbfleet-new").mkdir()
    (workdir / "rendered.dbfleet-new" / output.BUILDING).touch()
    assert run("render", "--check").exit_code == 0  # the check recovers too, and finds it current
    assert tree(workdir / "rendered") == before
    assert not list(workdir.glob("rendered.dbfleet-*"))


@pytest.mark.parametrize("journal", [None, b'{"moved": ["prod/'], ids=["before-the-journal", "journal-cut-short"])
def test_a_transaction_killed_before_anything_moved_is_cleaned_up(workdir: Path, journal: bytes | None) -> None:
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    backup = workdir / "rendered.dbfleet-old"
    backup.mkdir()
    if journal is not None:
        (backup / output.JOURNAL).write_bytes(journal)
    assert run("render", "--check").exit_code == 0
    assert tree(workdir / "rendered") == before
    assert not backup.exists()


def test_a_users_folder_named_like_dbfleets_own_is_never_deleted(workdir: Path) -> None:
    mine = workdir / "rendered.dbfleet-old"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = run("render")
    assert result.exit_code == 2
    assert "rendered.dbfleet-old: error: not made by dbfleet, and named as its own: move it away" in result.stderr
    assert (mine / "notes.txt").read_text() == "mine"


def test_unchanged_output_is_not_rewritten(workdir: Path) -> None:
    assert run("render").exit_code == 0
    cluster = workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml"
    inode = cluster.stat().st_ino
    result = run("render")
    assert "0 files changed" in result.stderr
    assert cluster.stat().st_ino == inode


def test_render_validates_with_the_embedded_schemas_and_no_option(workdir: Path) -> None:
    result = run("render")
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr


def test_a_kind_with_no_schema_anywhere_fails_unless_told(workdir: Path) -> None:
    """A kind a user adds with --templates: reported once per kind, not once per object."""
    custom = workdir / "my-templates" / "postgresql"
    custom.mkdir(parents=True)
    (custom / "podmonitor.yaml.j2").write_text(
        (ROOT / "templates/postgresql/podmonitor.yaml.j2").read_text().replace("monitoring.coreos.com/v1", "example.com/v1"))
    result = run("render", "--templates", "my-templates")
    assert result.exit_code == 3
    lines = errors_of(result.stderr)
    assert result.stderr.endswith("\n1 error\n")
    assert len(lines) == 1 and lines[0].startswith("prod/databases/billing/podmonitor-billing.yaml: error: no schema for PodMonitor "
                               "example.com/v1: not among the schemas embedded in dbfleet; give --schema-location;")
    assert not (workdir / "rendered").exists()
    assert run("render", "--templates", "my-templates", "--ignore-missing-schemas").exit_code == 0


def test_schema_location_as_a_file_url_template(workdir: Path) -> None:
    schemas = workdir / "schemas" / "postgresql.cnpg.io"
    schemas.mkdir(parents=True)
    (schemas / "cluster_v1.json").write_text('{"properties": {"spec": {"required": ["imageCatalogRef"]}}}')
    result = run("render", "--schema-location", f"file://{workdir}/schemas/{{group}}/{{kind}}_{{version}}.json")
    assert result.exit_code == 3
    assert "Cluster/orders: spec: 'imageCatalogRef' is a required property" in result.stderr
    assert not (workdir / "rendered").exists()


def test_validate_checks_the_committed_output(workdir: Path) -> None:
    assert run("render").exit_code == 0
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert f"{len(GOLDEN_OBJECTS)} rendered and {len(GOLDEN_OBJECTS)} committed objects valid" in result.stderr
    pooler = workdir / "rendered" / "prod" / "databases" / "orders" / "pooler-orders-pooler.yaml"
    pooler.write_text(pooler.read_text().replace("poolMode: transaction", "poolMode: statement"))
    result = run("validate")
    assert result.exit_code == 1
    assert errors_of(result.stderr)[0].startswith(
        "rendered/prod/databases/orders/pooler-orders-pooler.yaml: error: Pooler/orders-pooler: spec.pgbouncer.poolMode: 'statement' is not one of ['session', 'transaction']"
    )


def test_render_json_output(workdir: Path) -> None:
    result = run("render", "--output", "json")
    report = json.loads(result.stdout)
    assert report["exitCode"] == 0
    assert report["objects"] == len(GOLDEN_OBJECTS)
    assert report["environments"] == ["dev", "prod"]


@pytest.mark.parametrize(("kind", "folder"), [("Catalog", "catalog"), ("Overlay", "overlays")])
def test_the_printed_schema_accepts_the_examples_as_an_editor_reads_them(kind: str, folder: str) -> None:
    result = run("schema", "--kind", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["properties"]["kind"]["const"] == kind
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / folder).glob("*.yaml")):
        # As YAML 1.2 reads it, like editors' YAML support (a YAML 1.1 reader takes the key `on` for true).
        (document,), _ = load_documents(path.read_text(), path.name)
        assert list(validator.iter_errors(document)) == [], path


def test_the_printed_schema_catches_what_an_editor_can() -> None:
    schema = json.loads(run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    document = yaml.safe_load(MINIMAL)
    assert list(validator.iter_errors(document)) == []
    cluster = document["spec"]["clusters"][0]
    for key, value in [("name", "Notes_DB"), ("engine", "postgres"), ("replicas", 0), ("storage", {"size": "1GB"}),
                       ("backup", {"retention": "2 weeks"}), ("databases", [{"name": "app; DROP TABLE x"}]),
                       ("pooler", {"mode": "fast"}), ("storag", {})]:
        wrong = {**document, "spec": {"clusters": [{**cluster, key: value}]}}
        assert list(validator.iter_errors(wrong)), f"{key}: {value!r} is accepted"


def _properties(schema: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            yield f"{path}.{name}", sub
            yield from _properties(sub, f"{path}.{name}")
        for key in ("items", "anyOf"):
            for sub in schema.get(key) if isinstance(schema.get(key), list) else [schema.get(key)]:
                yield from _properties(sub, path + ("[]" if key == "items" else ""))


@pytest.mark.parametrize("kind", sorted(SCHEMAS))  # each kind the catalog has, the CLI's --kind takes
def test_every_field_has_a_description(kind: str) -> None:
    schema = json.loads(run("schema", "--kind", kind).stdout)
    fields = list(_properties(schema))
    assert len(fields) > 150
    assert [path for path, sub in fields if not sub.get("description")] == []


def test_no_overlays_means_one_default_environment(workdir: Path) -> None:
    for overlay in (workdir / "overlays").iterdir():
        overlay.unlink()
    assert run("render").exit_code == 0
    assert sorted(p.name for p in (workdir / "rendered").iterdir()) == [".dbfleet-manifest.json", "default"]


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = next(line.strip() for line in readme.splitlines() if "pytest" in line)
    assert test_command in ci


def test_an_environment_removed_from_the_catalog_is_removed_from_the_output(workdir: Path) -> None:
    assert run("render").exit_code == 0
    (workdir / "overlays" / "prod.yaml").unlink()
    check = run("render", "--check")
    assert check.exit_code == 1
    assert "--- a/rendered/prod/databases/orders/cluster-orders.yaml\n+++ /dev/null\n" in check.stdout
    assert run("render").exit_code == 0
    assert sorted(p.name for p in (workdir / "rendered").iterdir()) == [".dbfleet-manifest.json", "dev"]
    assert run("render", "--check").exit_code == 0


def test_check_with_nothing_changed_does_not_render(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.rendering import build

    assert run("render").exit_code == 0
    calls: list[int] = []
    real = build.render_read
    monkeypatch.setattr(build, "render_read", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    assert run("render", "--check").exit_code == 0
    assert calls == []
    templates = workdir / "my-templates" / "postgresql"
    templates.mkdir(parents=True)
    (templates / "podmonitor.yaml.j2").write_text((ROOT / "templates/postgresql/podmonitor.yaml.j2").read_text() + "\n")
    # Other templates change the digest: the check renders, and finds the same bytes.
    assert run("render", "--check", "--templates", "my-templates").exit_code == 0
    assert calls == [1]


MINIMAL = """\
apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata:
  name: acme
spec:
  clusters:
    - name: notes
      engine: postgresql
      version: "16"
      storage: {size: 1Gi}
"""


def test_a_cluster_without_backup_settings_renders_without_backups_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "fleet.yaml").write_text(MINIMAL)
    (tmp_path / "catalog" / "later.yaml").write_text("")
    result = run("render")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        "catalog/fleet.yaml:7:7: warning: clusters[0] (notes) has no backup: its data is not backed up; give it "
        "backup: {store: <a backupStores name>} (or a fleet default, defaults.backup), or backup: {method: none} "
        "to say so [backups]",
        "catalog/later.yaml:1:1: warning: the file is empty: it is skipped",
    ]
    files = tree(tmp_path / "rendered" / "default")
    assert sorted(files) == ["databases/kustomization.yaml", "databases/namespace-databases.yaml",
                             "databases/notes/cluster-notes.yaml", "databases/notes/kustomization.yaml"]
    assert b"backup" not in files["databases/notes/cluster-notes.yaml"]
    assert run("render", "--check").exit_code == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("render", "nope"), "nope: error: no such file or folder"),
        (("render", "--overlays", "envs"), "envs: error: --overlays: no such folder"),
        (("render", "--check", "--overlays", "envs"), "envs: error: --overlays: no such folder"),
        (("validate", "catalog/nope.yaml"), "catalog/nope.yaml: error: no such file or folder"),
        (("render", "--check", "--schema-location", "schemas"),
         "--schema-location: error: 'schemas' is not a folder, nor a URL template with {group}, {kind}, {version}"),
    ],
)
def test_a_path_that_is_not_there_is_bad_input(workdir: Path, args: tuple[str, ...], expected: str) -> None:
    assert run("render", "--output", "json").exit_code == 0
    before = tree(workdir)
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == f"{expected}\n1 error\n"
    assert tree(workdir) == before


def test_no_catalog_here_says_where_and_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("render")
    assert result.exit_code == 2
    assert result.stderr == (f"catalog/: error: no such folder here ({tmp_path}): run dbfleet in the repository that "
                             "holds the catalog, give the catalog's path, or start one with dbfleet init\n1 error\n")
    assert list(tmp_path.iterdir()) == []


def test_check_tells_stale_from_invalid_from_bad_input(workdir: Path) -> None:
    assert run("render").exit_code == 0
    assert run("render", "--check").exit_code == 0
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    assert run("render", "--check").exit_code == 1  # stale
    custom = workdir / "my-templates" / "postgresql"
    custom.mkdir(parents=True)
    (custom / "cluster.yaml.j2").write_text(
        (ROOT / "templates/postgresql/cluster.yaml.j2").read_text().replace("  instances:", "  replicas:"))
    invalid = run("render", "--check", "--templates", "my-templates")
    assert invalid.exit_code == 3  # invalid output
    assert "spec: Additional properties are not allowed ('replicas' was unexpected)" in invalid.stderr
    prod.write_text(prod.read_text().replace("size: 200Gi", "size: lots"))
    assert run("render", "--check").exit_code == 2  # bad input


def test_an_edit_that_renders_the_same_bytes_leaves_the_output_untouched(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit hook must not fail with "files were modified" while printing 0 files changed."""
    from renderer.rendering import build

    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    fleet = workdir / "catalog" / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("# The acme database fleet", "# The ACME database fleet") + "# more\n")
    result = run("render")
    assert "0 files changed" in result.stderr
    assert tree(workdir / "rendered") == before
    calls: list[int] = []
    real = build.render_read
    monkeypatch.setattr(build, "render_read", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    assert run("render", "--check").exit_code == 0
    assert calls == [], "the render remembered its inputs: the check needs no render"


def test_the_field_reference_is_generated_from_the_schema() -> None:
    result = run("schema", "--format", "markdown")
    assert result.exit_code == 0
    assert (ROOT / "docs" / "catalog.md").read_text() == result.stdout, "run: dbfleet schema --format markdown > docs/catalog.md"
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(list(_properties(json.loads(run("schema").stdout)["properties"]["spec"]))) + \
        result.stdout.count("| object | | Requires:")
    assert "| `clusters[].storage.size` | quantity |" in result.stdout
    assert "| `clusters[].engine` | `postgresql` \\| `mysql` \\| `mongodb` \\| `kafka` \\| `sqlite` |" in result.stdout


def test_validate_reads_a_committed_alias_bomb_as_unreadable(workdir: Path) -> None:
    assert run("render").exit_code == 0
    bomb = workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml"
    bomb.write_text("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" +
                    "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10)))
    result = run("validate")
    assert result.exit_code == 1
    assert errors_of(result.stderr)[0].startswith(
        "rendered/prod/databases/orders/cluster-orders.yaml:1:1: error: cannot read: too many values, or values nested too deep")


def test_a_symbolic_link_in_the_output_is_never_followed(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("outside") / "shadow"
    secret.write_text("SECRET CONTENT\n")
    assert run("render").exit_code == 0
    managed = workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml"
    managed.unlink()
    managed.symlink_to(secret)
    (workdir / "rendered" / "prod" / "empty").mkdir()
    for args in (("render", "--check"), ("render",)):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "SECRET" not in result.output
        assert "rendered/prod/databases/orders/cluster-orders.yaml: error: not written by dbfleet" in result.stderr
        assert "rendered/prod/empty: error: not written by dbfleet" in result.stderr
    assert managed.is_symlink() and secret.read_text() == "SECRET CONTENT\n"


def test_render_repairs_a_file_edited_by_hand(workdir: Path) -> None:
    assert run("render").exit_code == 0
    edited = workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml"
    good = edited.read_bytes()
    edited.write_text("kind: Oops\n")
    result = run("render")
    assert result.exit_code == 0 and "1 file changed" in result.stderr
    assert edited.read_bytes() == good
    assert run("render", "--check").exit_code == 0


def test_a_scan_taken_ahead_by_a_forked_process_serves_check_and_render(workdir: Path, tmp_path_factory: pytest.TempPathFactory,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A large output folder is walked by a forked process while the catalog renders: the check's
    diff, foreign files, hand edits and bad input come out as with the walk taken here, and every
    forked process is gone when the command returns."""
    monkeypatch.setattr(output, "AHEAD_FROM", 0)  # the example's folder counts as large
    forked: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(pid := fork()) or pid)
    assert run("render", "-j", "2").exit_code == 0 and forked == []  # no folder yet: nothing to walk
    scans: list[Path] = []  # the walks this process took (a forked one's are its own)
    scan = output.scan
    monkeypatch.setattr(output, "scan", lambda out: scans.append(out) or scan(out))
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    before = tree(workdir)
    result = run("render", "--check", "-j", "2")
    assert result.exit_code == 1 and '-    size: "100Gi"\n+    size: "200Gi"\n' in result.stdout
    assert len(forked) == 1 and scans == []  # the forked process's walk served the check
    assert tree(workdir) == before
    edited = workdir / "rendered" / "dev" / "databases-dev" / "orders" / "cluster-orders.yaml"
    edited.write_text("kind: Oops\n")
    (workdir / "rendered" / "dev" / "notes.md").write_text("mine")
    result = run("render", "-j", "2")
    assert result.exit_code == 2 and errors_of(result.stderr)[0].startswith("rendered/dev/notes.md: error: not written")
    (workdir / "rendered" / "dev" / "notes.md").unlink()
    result = run("render", "-j", "2")
    assert result.exit_code == 0 and edited.read_text() != "kind: Oops\n", result.stderr
    fleet = workdir / "catalog" / "fleet.yaml"
    good = fleet.read_text()
    fleet.write_text(good + "  bogus: 1\n")
    assert run("render", "-j", "2").exit_code == 2  # bad input: the walk is abandoned
    fleet.write_text(good)
    assert len(forked) == 4
    for pid in forked:  # each one waited for
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("fresh-cache")))
    assert run("render", "-o", "fresh", "-j", "1").exit_code == 0
    assert tree(workdir / "rendered") == tree(workdir / "fresh")
    assert run("render", "--check", "-j", "2").exit_code == 0


@pytest.mark.parametrize("held", [False, True], ids=["forked-to-write", "held-by-renderers"])
@pytest.mark.parametrize("killed_after", [None, 0, 3], ids=["written", "killed-at-once", "killed-after-3-files"])
def test_files_created_by_forked_processes_are_those_one_process_writes(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, killed_after: int | None, held: bool) -> None:
    """Many files are created by other processes beside this one (forked to create them, or
    ``held``: those that rendered a share of the units create its files): the same folder, their
    stamps recorded as the system has them (a later check reads nothing), every process waited
    for; a process killed halfway leaves nothing wrong (its files are written here, over what it
    left)."""
    import renderer.rendering.build

    monkeypatch.setattr(output, "PARALLEL_WRITES_FROM", 0)  # the example's 335 files count as many
    monkeypatch.setattr(commands, "READ_AHEAD_FROM", 0)  # and its catalog is read ahead, by another process
    if held:  # and its units are rendered by two processes
        monkeypatch.setattr(renderer.rendering.build, "PARALLEL_FROM", 1)
    asked, held_log = renderer.rendering.build.create_held, tmp_path / "held"

    def logged(*args: Any) -> Any:
        with held_log.open("a") as log:  # (in the process asked)
            log.write(f"{os.getpid()}\n")
        return asked(*args)

    monkeypatch.setattr(renderer.rendering.build, "create_held", logged)
    assert run("render", "-o", "alone", "-j", "1").exit_code == 0
    parent, create, made = os.getpid(), output._create, [0]

    def dying_create(path: str, data: bytes) -> tuple[int, int, int]:
        if os.getpid() != parent and killed_after is not None:
            if made[0] == killed_after:
                os.kill(os.getpid(), signal.SIGKILL)
            made[0] += 1
        return create(path, data)

    forked: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(pid := fork()) or pid)
    monkeypatch.setattr(output, "_create", dying_create)
    prod = workdir / "overlays" / "prod.yaml"
    for edited in (False, True):  # a first render, then one that replaces files
        if edited:
            prod.write_text(prod.read_text().replace("size: 100Gi", "size: 300Gi"))
            assert run("render", "-o", "alone", "-j", "1").exit_code == 0
        assert run("render", "-j", "2").exit_code == 0
        assert tree(workdir / "rendered") == tree(workdir / "alone")
        record = output._read_record(workdir / "rendered")
        now: output.Stamps = {}
        output._scan(workdir / "rendered", now)
        assert record["stamps"] == {path: now[path] for path in record["stamps"]}
        assert not list(workdir.glob("rendered.dbfleet-*"))
    assert forked
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    assert run("render", "--check", "-j", "2").exit_code == 0
    held_asked = held_log.read_text().split() if held_log.exists() else []
    assert bool(held_asked) == held and str(os.getpid()) not in held_asked


def test_a_kept_environment_edited_by_hand_is_refused_not_crashed(workdir: Path) -> None:
    assert run("render").exit_code == 0
    (workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml").unlink()
    result = run("render", "--env", "dev")
    assert result.exit_code == 2
    assert ("rendered/prod/databases/orders/cluster-orders.yaml: error: edited or deleted by hand, in an environment "
            "not rendered now: render it too (without --env), or restore the file") in result.stderr
    assert run("render").exit_code == 0


_NAME_PARTS = st.sampled_from(["a", "b.yaml", "..", ".", "...", "a..b", "", "/", "\n", " ", "é", "-_"])


@given(st.dictionaries(st.lists(_NAME_PARTS, max_size=6).map("".join), st.sampled_from(["00", 0, None]), max_size=5))
def test_the_manifest_names_are_checked_in_one_search_as_one_by_one(files: dict[str, Any]) -> None:
    one_by_one = all(isinstance(digest, str) and output._SAFE_PATH.match(name) and ".." not in name.split("/")
                     for name, digest in files.items())
    assert output._safe_paths(files) == one_by_one


def test_two_renders_at_once_are_refused_with_the_holder(workdir: Path) -> None:
    assert run("render").exit_code == 0
    with output.locked(workdir / "rendered"):
        result = run("render")
    assert result.exit_code == 2
    assert f"rendered: error: dbfleet (pid {os.getpid()}) is rendering into this folder" in result.stderr


def _manifest(files: Any) -> str:
    return json.dumps({"version": 1, "files": files})


@pytest.mark.parametrize(("text", "reason"), [
    (_manifest({"../escape.yaml": "00"}), "'../escape.yaml' is not a file of the output folder"),
    (_manifest({"/etc/passwd": "00"}), "'/etc/passwd' is not a file of the output folder"),
    (_manifest({"prod/a\nb.yaml": "00", "prod/c.yaml": "00"}), "'prod/a\\nb.yaml' is not a file of the output folder"),
    (_manifest({"prod/ok.yaml": "00", "prod//x.yaml": "00"}), "'prod//x.yaml' is not a file of the output folder"),
    (_manifest({"prod/x.yaml": 5}), "'prod/x.yaml' is not a file of the output folder"),
    (_manifest(["prod/x.yaml"]), "files is not a mapping"),
    ('{"version": 1, "files": ' + "[" * 100_000 + "]" * 100_000 + "}", "maximum recursion depth exceeded"),
])
def test_a_tampered_manifest_is_bad_input(workdir: Path, text: str, reason: str) -> None:
    assert run("render").exit_code == 0
    (workdir / "rendered" / output.MANIFEST).write_text(text)
    for args in (("render",), ("render", "--check")):
        result = run(*args)
        assert result.exit_code == 2
        assert "unreadable dbfleet manifest (" in result.stderr and reason in result.stderr


@pytest.mark.parametrize("out", ["/", ".", "..", "link", "x" * 300])
def test_an_output_folder_dbfleet_cannot_own_is_refused(workdir: Path, out: str) -> None:
    (workdir / "elsewhere").mkdir()
    (workdir / "link").symlink_to(workdir / "elsewhere")
    result = run("render", "-o", out)
    assert result.exit_code == 2
    assert "the output folder" in result.stderr
    assert list((workdir / "elsewhere").iterdir()) == []


def test_a_custom_template_runs_in_a_sandbox(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    proof = tmp_path_factory.mktemp("sandbox") / "ran"
    custom = workdir / "my-templates" / "postgresql"
    custom.mkdir(parents=True)
    (custom / "podmonitor.yaml.j2").write_text(
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(proof) + "').read() }}\n" +
        (ROOT / "templates/postgresql/podmonitor.yaml.j2").read_text())
    result = run("render", "--templates", "my-templates")
    assert result.exit_code == 2
    assert "template postgresql/podmonitor.yaml.j2: access to attribute '__init__'" in result.stderr
    assert not proof.exists() and not (workdir / "rendered").exists()


@pytest.mark.parametrize(("extra", "message"), [
    ("---\n", None),
    ("  annotations:\n    backup-url: postgres://app:hunter2@db:5432/app\n", "metadata.annotations.backup-url: the URL carries a password"),
    ("  annotations:\n    password: hunter2\n", "metadata.annotations.password: a 'password' value in Git is a plaintext secret"),
])
def test_no_custom_template_puts_a_secret_in_git(workdir: Path, extra: str, message: str | None) -> None:
    custom = workdir / "my-templates" / "postgresql"
    custom.mkdir(parents=True)
    original = (ROOT / "templates/postgresql/podmonitor.yaml.j2").read_text()
    if message is None:  # a Secret, values and all, instead of the PodMonitor
        text = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ cluster.name ~ \"-leaked\" }}\n  namespace: {{ namespace }}\n"
                "stringData:\n  password: hunter2\n")
        message = "a Secret with its values would put them in Git"
    else:
        text = original.replace("  namespace: {{ namespace }}\n", "  namespace: {{ namespace }}\n" + extra, 1)
        assert text != original
    (custom / "podmonitor.yaml.j2").write_text(text)
    result = run("render", "--templates", "my-templates")
    assert result.exit_code == 3
    assert message in result.stderr and "hunter2" not in result.stdout
    assert not (workdir / "rendered").exists()


def test_a_check_with_nothing_changed_loads_no_renderer(workdir: Path) -> None:
    """The pre-commit hook's common case starts fast: no templates, schemas, catalog parser or
    name rules are imported (checked in a new process, as the hook runs it)."""
    import subprocess
    import sys

    assert run("render").exit_code == 0
    assert run("render", "--check").exit_code == 0
    probe = ("import sys; from renderer.cli import main\n"
             "try:\n    main(['render', '--check'])\nexcept SystemExit as exit:\n    code = exit.code\n"
             "heavy = sorted(m for m in ('jinja2', 'jsonschema', 'jsonschema_rs', 'celpy', 'lark', 'kubernetes_validate', 'yaml',"
             " 'renderer.catalog.load', 'renderer.rendering.build', 'renderer.rendering.templating', 'renderer.schemas.cel',"
             " 'renderer.catalog.schema', 'renderer.kube.kubenames', 'tempfile')"
             " if m in sys.modules)\n"
             "print(code, heavy)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=workdir)
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr


def _program(*args: str) -> Any:
    """dbfleet in a new process, through the console script's entry point (pyproject.toml)."""
    import subprocess
    import sys
    import tomllib

    module, function = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["dbfleet"].split(":")
    code = f"import sys; sys.argv[0] = 'dbfleet'; from {module} import {function}; {function}()"
    # Buffered output, as in a user's shell (this machine's may unbuffer Python's).
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBFLEET_") and k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)


def test_the_program_ends_with_its_output_and_exit_code(workdir: Path) -> None:
    """The program ends without freeing what it made: what it prints is all there, and its exit
    code is the command's (success, a stale output, bad input, a usage error)."""
    done = _program("render")
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    assert "\nrendered 250 objects" in done.stderr and (workdir / "rendered" / output.MANIFEST).is_file()
    prod = workdir / "overlays" / "prod.yaml"
    prod.write_text(prod.read_text().replace("size: 100Gi", "size: 200Gi"))
    done = _program("render", "--check", "--output", "json")
    report = json.loads(done.stdout)
    assert (done.returncode, report["exitCode"], report["upToDate"]) == (1, 1, False)
    assert '+    size: "200Gi"' in report["diff"]
    prod.write_text(prod.read_text() + "clusters: 7\n")
    done = _program("render")
    assert done.returncode == 2 and errors_of(done.stderr) and "Traceback" not in done.stderr
    done = _program("render", "--no-such-option")
    assert done.returncode == 2 and "No such option" in done.stderr
    done = _program("--version")
    assert done.returncode == 0 and "version" in done.stdout


def test_a_touched_file_with_the_same_bytes_is_still_current(workdir: Path) -> None:
    """The check trusts a file's size, time and inode as recorded, and reads the file when they
    differ: a touched file is current, an edited one is not."""
    assert run("render").exit_code == 0
    cluster = workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml"
    os.utime(cluster, ns=(1, 1))
    assert run("render", "--check").exit_code == 0
    cluster.write_bytes(cluster.read_bytes().replace(b"instances: 3", b"instances: 4"))
    assert run("render", "--check").exit_code == 1


@pytest.mark.parametrize("situation", ["new", "unchanged", "changed", "refused"])
def test_the_callers_work_beside_a_write_is_done_once_whatever_the_write_does(tmp_path: Path, situation: str) -> None:
    """``meanwhile`` (the unit cache's saving) runs once: in a new folder, with nothing to change,
    with a change, and when the folder is refused."""
    out, files = tmp_path / "rendered", {"prod/db/a.yaml": b"a: 1\n", "prod/db/b.yaml": b"b: 1\n"}
    if situation != "new":
        output.write(out, files, ["prod"])
    if situation == "changed":
        files = {**files, "prod/db/a.yaml": b"a: 2\n"}
    if situation == "refused":
        (out / "prod" / "db" / "foreign.yaml").write_text("x: 1\n")
    calls: list[str] = []
    if situation == "refused":
        with pytest.raises(DbfleetError):
            output.write(out, files, ["prod"], meanwhile=lambda: calls.append("saved"))
    else:
        changed, _ = output.write(out, files, ["prod"], meanwhile=lambda: calls.append("saved"))
        assert changed == {"new": sorted(files), "unchanged": [], "changed": ["prod/db/a.yaml"]}[situation]
    assert calls == ["saved"]


@pytest.mark.parametrize("files", [{}, {"prod/db/x.yaml": "0" * 64},
                                   {f"prod/n{i % 7}/e-{i}/k-{i}.yaml": f"{i:064x}" for i in range(300)},
                                   {"z.yaml": "1", "a.yaml": "2", "dev/é.yaml": "3"},
                                   {"a.yaml": "0" * 63, "b.yaml": "0" * 65}, {"a.yaml": "A" * 64, "b.yaml": '"' * 64},
                                   {"a\tb.yaml": "x\\y", "c\x7f": "\x00", "d\n": "\u2028"}])
def test_the_manifest_is_written_as_json_writes_it(files: dict[str, str]) -> None:
    """Written directly for speed, byte for byte what json.dumps(indent=1, sort_keys=True) writes."""
    expected = json.dumps({"version": output.MANIFEST_VERSION, "files": files}, indent=1, sort_keys=True) + "\n"
    assert output.Manifest(files=files).to_bytes() == expected.encode()


def test_a_file_written_in_pieces_is_written_whole(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write the system cuts short (a signal, a pipe's or a disk's limit) goes on where it stopped."""
    write = os.write
    with monkeypatch.context() as patched:
        patched.setattr(os, "write", lambda fd, data: write(fd, bytes(data[:7])))
        assert run("render").exit_code == 0
    checked = run("render", "--check")
    assert checked.exit_code == 0, checked.output
