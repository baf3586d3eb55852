"""A corpus of bad catalogs (tests/bad/<case>/) with the exact messages users must see."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run, tree

CORPUS = Path(__file__).parent / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@pytest.fixture
def case_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / request.param
    shutil.copytree(CORPUS / request.param, target)
    (target / "expected.txt").unlink()
    monkeypatch.chdir(target)
    return target


@pytest.mark.parametrize("case_dir", CASES, indirect=True)
@pytest.mark.parametrize("command", [("render",), ("render", "--check"), ("validate",)])
def test_bad_catalog_is_refused_with_every_error(case_dir: Path, command: tuple[str, ...]) -> None:
    before = tree(case_dir)
    result = run(*command)
    assert result.exit_code == 2
    assert result.stderr == (CORPUS / case_dir.name / "expected.txt").read_text()
    assert "Traceback" not in result.output
    assert tree(case_dir) == before, "nothing may be written"


@pytest.mark.parametrize("case_dir", ["bad-cron"], indirect=True)
def test_bad_catalog_as_json(case_dir: Path) -> None:
    result = run("render", "--output", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["exitCode"] == 2
    assert [(p["file"], p["line"], p["column"]) for p in report["problems"]] == [
        ("catalog/fleet.yaml", 7, 14),
        ("catalog/fleet.yaml", 16, 16),
        ("catalog/fleet.yaml", 16, 40),
    ]
    assert all(p["severity"] == "error" for p in report["problems"])


def test_the_corpus_covers_what_users_get_wrong() -> None:
    expected = {
        "wrong-type", "unknown-key", "misspelt-engine", "dangling-store", "duplicate-across-files",
        "bad-names", "bad-cron", "bad-quantity", "plaintext-secrets", "malformed-yaml", "duplicate-keys",
    }
    assert expected <= set(CASES)


@pytest.mark.parametrize("case_dir", CASES, indirect=True)
@pytest.mark.parametrize("forks, read_ahead", [(True, False), (True, True), (False, True)],
                         ids=["rules-forked", "read-ahead", "fork-refused"])
def test_rules_run_beside_the_render_with_the_same_answer(case_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                          forks: bool, read_ahead: bool) -> None:
    """A large catalog's rules run in a forked process while the catalog renders (or after it,
    here, when no process can be forked), and it is read there too while this process imports:
    what is refused is reported as when the rules run first, whatever the render made of the
    catalog meanwhile."""
    import os

    from renderer import commands
    from renderer.rendering import build

    monkeypatch.setattr(build, "RULES_AHEAD_FROM", 0)
    if read_ahead:
        monkeypatch.setattr(commands, "READ_AHEAD_FROM", 0)
    forked: list[int] = []
    fork = os.fork

    def counted() -> int:
        if not forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forked.append(pid := fork())
        return pid

    monkeypatch.setattr(os, "fork", counted)
    before = tree(case_dir)
    result = run("render", "-j", "2")
    assert (result.exit_code, result.stderr) == (2, (CORPUS / case_dir.name / "expected.txt").read_text())
    assert tree(case_dir) == before
    for pid in forked:  # each one waited for
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
