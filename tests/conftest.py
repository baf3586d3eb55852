from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings
from syrupy.data import Snapshot, SnapshotCollection
from syrupy.extensions.single_file import SingleFileSnapshotExtension
from syrupy.location import PyTestLocation

from renderer import cli
from renderer.catalog.load import load
from renderer.catalog.sources import yaml_files
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle
from renderer.rendering.templating import Templates

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"


class GoldenFiles(SingleFileSnapshotExtension):
    """Snapshots are the files of golden/ themselves, at their bundle paths."""

    file_extension = ""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN)

    @classmethod
    def discovery_dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN)

    @classmethod
    def get_location(cls, *, test_location: PyTestLocation, index: Any) -> str:
        return str(GOLDEN / str(index))

    @classmethod
    def get_snapshot_name(cls, *, test_location: PyTestLocation, index: Any = 0) -> str:
        return str(index)

    def read_snapshot_collection(self, *, snapshot_location: str) -> SnapshotCollection:
        collection = SnapshotCollection(location=snapshot_location)
        collection.add(Snapshot(name=Path(snapshot_location).relative_to(GOLDEN).as_posix()))
        return collection

    def is_snapshot_location(self, *, location: str) -> bool:
        return Path(location).is_relative_to(GOLDEN)


@pytest.fixture
def golden(snapshot: Any) -> Any:
    return snapshot.use_extension(GoldenFiles)


@pytest.fixture(scope="session")
def example_bundle() -> Bundle:
    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    return render_all(catalog, Templates())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example repository layout, as the current directory."""
    for name in ("catalog", "overlays"):
        target = tmp_path / name
        target.mkdir()
        for source in (ROOT / name).iterdir():
            (target / source.name).write_bytes(source.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    """The CLI as a user runs it, from the current directory, with no schema option: the
    schemas embedded in the package."""
    env = {"DBFLEET_SCHEMA_LOCATION": None, "DBFLEET_CHART_SCHEMA_LOCATION": None}
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False, env=env)


def tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    } if path.exists() else {}


# A test's verdict is not its time (this host's speed varies twice within a day; the first example
# of a test may import cel-python): no deadline.
settings.register_profile("dbfleet", deadline=None)
settings.load_profile("dbfleet")

os.environ.pop("DBFLEET_SCHEMA_LOCATION", None)
os.environ.pop("DBFLEET_CHART_SCHEMA_LOCATION", None)


@pytest.fixture(autouse=True)
def schema_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fetched schemas are cached in a folder of the test's own, never in the user's home."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache / "dbfleet" / "schemas"


def pytest_sessionstart(session: pytest.Session) -> None:
    """The modules setup.py compiled (an editable install's, beside their source) are what runs:
    a source edited since would not be what the tests test."""
    compiled = {p: p.with_name(p.name.split(".", 1)[0] + ".py") for p in ROOT.glob("renderer/**/*.so")}
    if not compiled:
        return
    # The group's library holds the code of them all.
    newest = max(source.stat().st_mtime for source in compiled.values())
    compiled.update((p, None) for p in ROOT.glob("*__mypyc*.so"))
    stale = sorted(str(p.relative_to(ROOT)) for p, source in compiled.items()
                   if p.stat().st_mtime < (source.stat().st_mtime if source else newest))
    if stale:
        raise pytest.UsageError(f"{', '.join(stale)}: compiled before the last edit of its source; install again "
                                "(pip install -e .), or delete them (git clean -fX -- '*.so') to test the Python")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a test that did not run: the run fails."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test{'s were' if skipped != 1 else ' was'} skipped; "
                            "install what they need (.ci/run) instead", red=True)
        session.exitstatus = 1
