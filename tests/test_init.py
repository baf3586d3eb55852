"""dbfleet init: a new repository renders at once, its examples render, and nothing is overwritten;
the README's first catalog renders as pasted."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run, tree

SCAFFOLD = {"catalog/fleet.yaml", "overlays/dev.yaml", "overlays/prod.yaml", ".pre-commit-config.yaml",
            ".github/workflows/dbfleet.yaml"}
# A commented line of an example: a key or a list item once "# " is taken away (prose is not).
EXAMPLE_LINE = re.compile(r"^(\s*)# (\s*(- |[A-Za-z][\w.-]*:( |$)))")


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_then_render_then_check(empty: Path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == ("created catalog/fleet.yaml, overlays/dev.yaml, overlays/prod.yaml, "
                                             ".pre-commit-config.yaml, .github/workflows/dbfleet.yaml")
    assert "warning" not in result.stderr and "error" not in result.stderr
    files = tree(empty)
    assert SCAFFOLD <= set(files)
    assert {p.split("/")[1] for p in files if p.startswith("rendered/") and "/" in p[9:]} == {"dev", "prod"}
    assert run("render").exit_code == 0
    assert tree(empty) == files, "a render right after init changes nothing"
    assert run("render", "--check").exit_code == 0
    assert run("validate").exit_code == 0


def test_init_never_overwrites_and_writes_nothing_when_refused(empty: Path) -> None:
    (empty / "catalog").mkdir()
    (empty / "catalog" / "fleet.yaml").write_text("mine\n")
    (empty / ".pre-commit-config.yaml").write_text("repos: []\n")
    result = run("init")
    assert result.exit_code == 2
    assert result.stderr == (
        ".pre-commit-config.yaml: error: already exists: dbfleet init writes only new files (move it away, or give "
        "another folder: dbfleet init DIR)\n"
        "catalog/fleet.yaml: error: already exists: dbfleet init writes only new files (move it away, or give "
        "another folder: dbfleet init DIR)\n2 errors\n")
    assert tree(empty) == {"catalog/fleet.yaml": b"mine\n", ".pre-commit-config.yaml": b"repos: []\n"}


def test_init_refuses_a_folder_that_is_a_symbolic_link(empty: Path) -> None:
    elsewhere = empty / "elsewhere"
    elsewhere.mkdir()
    (empty / "repo").mkdir()
    (empty / "repo" / "overlays").symlink_to(elsewhere)
    result = run("init", "repo")
    assert result.exit_code == 2
    assert "repo/overlays: error: is a symbolic link: dbfleet init writes into plain folders only" in result.stderr
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in (empty / "repo").iterdir()) == ["overlays"]


def test_init_into_a_new_folder(empty: Path) -> None:
    result = run("init", "platform/databases")
    assert result.exit_code == 0, result.output
    assert SCAFFOLD <= set(tree(empty / "platform" / "databases"))
    assert "next: cd platform/databases && git init" in result.stdout


def test_the_hooks_and_the_workflow_name_this_dbfleet(empty: Path) -> None:
    from renderer.scaffold import REPOSITORY, dbfleet_version

    assert run("init").exit_code == 0
    config = yaml.safe_load((empty / ".pre-commit-config.yaml").read_text())
    shipped = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert config["repos"] == [{"repo": REPOSITORY, "rev": f"v{dbfleet_version()}",
                                "hooks": [{"id": "dbfleet-render"}, {"id": "dbfleet-validate"}]}]
    assert {hook["id"] for hook in config["repos"][0]["hooks"]} <= shipped
    workflow = yaml.safe_load((empty / ".github" / "workflows" / "dbfleet.yaml").read_text())
    steps = [step.get("run") for step in workflow["jobs"]["check"]["steps"]]
    assert steps[-3:] == [f"python -m pip install dbfleet=={dbfleet_version()}", "dbfleet render --check", "dbfleet validate"]


def test_the_shipped_hooks_run_as_pre_commit_runs_them(empty: Path) -> None:
    """Each hook's entry, with no argument (pass_filenames: false), in the scaffolded repository."""
    assert run("init").exit_code == 0
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        assert hook["pass_filenames"] is False and hook["require_serial"] is True
        program, *args = hook["entry"].split()
        assert program == "dbfleet"
        result = run(*args)
        assert result.exit_code == 0, (hook["id"], result.output)


def test_every_commented_example_renders_once_uncommented(empty: Path) -> None:
    assert run("init").exit_code == 0
    for name, least in (("catalog/fleet.yaml", 60), ("overlays/dev.yaml", 3)):
        lines = (empty / name).read_text().splitlines()
        examples = [EXAMPLE_LINE.sub(r"\1\2", line) for line in lines]
        assert sum(a != b for a, b in zip(lines, examples)) >= least, name
        (empty / name).write_text("\n".join(examples) + "\n")
    result = run("render")
    assert result.exit_code == 0, result.output
    kinds = {yaml.safe_load(data)["kind"] for path, data in tree(empty / "rendered").items()
             if path.endswith(".yaml") and not path.endswith("kustomization.yaml")}
    assert {"Cluster", "PerconaXtraDBCluster", "PerconaServerMongoDB", "Kafka", "KafkaTopic", "KafkaUser", "StatefulSet",
            "Job", "CronJob", "HelmRelease", "Deployment", "ExternalSecret", "GitRepository"} <= kinds


def test_the_readmes_first_catalog_renders_as_pasted(empty: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Your first catalog"):]
    catalog = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert catalog is not None
    (empty / "catalog").mkdir()
    (empty / "catalog" / "fleet.yaml").write_text(catalog.group(1))
    result = run("render")
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr
    assert run("render", "--check").exit_code == 0
