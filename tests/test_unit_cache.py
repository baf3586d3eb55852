"""Units remembered between renders: a render that takes units from the cache writes the same
bytes as one that renders everything, and renders only what an edit reached."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from renderer.planning import plan
from renderer.rendering import build, unit_cache
from renderer.rendering.unit_cache import VALIDATING, installed_versions, read_records, record
from renderer.writing import output
from tests.conftest import run, tree

# (file, text, another text): each step swaps one of them, back and forth.
EDITS = [
    ("catalog/postgresql.yaml", "      replicas: 3\n      storage: {size: 20Gi}", "      replicas: 5\n      storage: {size: 20Gi}"),
    ("catalog/postgresql.yaml", "mode: transaction}", "mode: session}"),
    ("catalog/postgresql.yaml", "log_min_duration_statement: \"500ms\"", "log_min_duration_statement: \"250ms\""),
    ("catalog/postgresql.yaml", "        - {name: inventory}", "        - {name: inventory}\n        - {name: stock, owner: stock_app}"),
    ("overlays/prod.yaml", "size: 100Gi", "size: 150Gi"),
    ("overlays/dev.yaml", "storage: {size: 5Gi}", "storage: {size: 6Gi}"),
    ("catalog/fleet.yaml", "schedule: \"0 3 * * *\"", "schedule: \"15 3 * * *\""),
    ("catalog/kafka.yaml", "partitions: 6", "partitions: 12"),
    ("catalog/sqlite.yaml", "retention: 7d", "retention: 14d"),
    # What an engine reads beside its entry: a store every cluster that backs up to it renders from.
    ("catalog/fleet.yaml", "        path: databases\n", "        path: databases-2\n"),
]


def _swap(workdir: Path, edit: tuple[str, str, str]) -> None:
    path, one, other = edit
    file = workdir / path
    text = file.read_text()
    assert one in text or other in text, edit
    file.write_text(text.replace(other, one, 1) if other in text else text.replace(one, other, 1))


def test_cached_and_uncached_renders_write_the_same_bytes(workdir: Path, tmp_path_factory: pytest.TempPathFactory,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    choose = random.Random(20261122)
    monkeypatch.setattr(unit_cache, "PART", 2)  # parts an edit leaves alone are kept as read
    assert run("render").exit_code == 0
    for step in range(10):
        for _ in range(choose.randint(1, 3)):
            _swap(workdir, choose.choice(EDITS))
        cached = run("render")
        with monkeypatch.context() as patch:  # a cache of its own, empty: every unit renders
            patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("fresh-cache")))
            fresh = run("render", "-o", f"fresh-{step}")
        assert cached.exit_code == fresh.exit_code == 0, cached.output + fresh.output
        assert tree(workdir / "rendered") == tree(workdir / f"fresh-{step}"), f"step {step}"


def test_only_what_an_edit_reaches_is_rendered(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("render").exit_code == 0
    rendered: list[str] = []
    planned: list[str] = []  # clusters whose engine ran
    real = build.render_unit
    monkeypatch.setattr(build, "render_unit", lambda unit, *args: rendered.append(unit.instance) or real(unit, *args))
    for engine, render in list(plan.ENGINES.items()):
        monkeypatch.setitem(plan.ENGINES, engine, lambda cluster, *args, render=render: planned.append(cluster["name"])
                            or render(cluster, *args))
    assert run("render").exit_code == 0
    assert rendered == [] and planned == []  # nothing changed: every unit from the cache, nothing validated
    _swap(workdir, EDITS[4])  # prod's orders storage
    assert run("render").exit_code == 0
    assert rendered == ["orders"] and planned == ["orders"]
    _swap(workdir, EDITS[-1])  # the path of the store most clusters back up to: each is planned again
    assert run("render").exit_code == 0
    assert len(planned) > 3 and "orders" in planned[1:]


def test_parts_an_edit_leaves_alone_are_kept_as_they_were(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_cache, "PART", 2)
    cache = output.cached_path(workdir / "rendered", "units", ".marshal")
    assert run("render").exit_code == 0
    before = [record(part) for part in read_records(cache.read_bytes())][1:]
    _swap(workdir, EDITS[4])  # prod's orders storage: one unit
    assert run("render").exit_code == 0
    head, *parts = read_records(cache.read_bytes())
    after = [record(part) for part in parts]
    changed = [part for part in after if part not in before]
    assert len(before) > 4 and len(after) == len(before) and len(changed) == 1
    units = {key: unit for part in parts for key, unit in part.items()}
    assert len(units) == sum(len(part) for part in parts)  # each unit once
    (new,) = read_records(changed[0])
    assert any(path.endswith("prod/databases/orders/cluster-orders.yaml") and b"150Gi" in content
               for unit in new.values() for path, content, *_ in unit)


@pytest.mark.parametrize("damage", ["garbage", "symlink", "other salt"])
def test_a_damaged_cache_is_ignored(workdir: Path, tmp_path_factory: pytest.TempPathFactory, damage: str) -> None:
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    cache = output.cached_path(workdir / "rendered", "units", ".marshal")
    assert cache.is_file()
    if damage == "garbage":
        cache.write_text("{not json")
    elif damage == "symlink":
        elsewhere = tmp_path_factory.mktemp("elsewhere") / "units.json"
        elsewhere.write_bytes(cache.read_bytes())
        cache.unlink()
        cache.symlink_to(elsewhere)
    else:  # written by another dbfleet, or for other options
        head, *parts = read_records(cache.read_bytes())  # the head, then the units
        cache.write_bytes(b"".join(record(value) for value in [{**head, "salt": "another"}, *parts]))
    (workdir / "rendered" / "dev").rename(workdir / "gone")  # must be rendered again, whole and right
    assert run("render").exit_code == 0
    assert tree(workdir / "rendered") == before


def test_another_process_finds_every_unit(workdir: Path) -> None:
    """Keys are the same in every process (the cache is rewritten only when one is new)."""
    import os
    import subprocess
    import sys

    render = [sys.executable, "-m", "renderer", "render"]
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    subprocess.run(render, cwd=workdir, env=env, check=True, capture_output=True)
    cache = output.cached_path(workdir / "rendered", "units", ".marshal")
    first = cache.stat()
    subprocess.run(render, cwd=workdir, env={**env, "PYTHONHASHSEED": "2"}, check=True, capture_output=True)
    second = cache.stat()
    assert (second.st_ino, second.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)


def test_the_salt_names_the_installed_versions_as_importlib_metadata_does() -> None:
    from importlib import metadata

    assert installed_versions(VALIDATING) == {name: metadata.version(name) for name in VALIDATING}
    assert installed_versions(("no-such-distribution",)) == {}


def test_a_render_after_an_edit_meets_no_rule_it_has_not_met(workdir: Path) -> None:
    """The outcomes of the CRDs' CEL rules are remembered with the units: after a storage change,
    the changed cluster's rules read nodes they have read before, and cel-python (0.1 s) is not
    even imported (checked in a new process, as a pre-commit hook runs it)."""
    import os
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "renderer", "render"], cwd=workdir, env=os.environ, check=True,
                   capture_output=True)
    _swap(workdir, EDITS[4])  # prod's orders storage
    probe = ("import sys; from renderer.cli import main\n"
             "try:\n    main(['render'])\nexcept SystemExit as exit:\n    code = exit.code\n"
             "print(code, 'celpy' in sys.modules, 'lark' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=workdir, env=os.environ)
    assert done.stdout.strip().splitlines()[-1] == "0 False False", done.stdout + done.stderr
    assert b"150Gi" in (workdir / "rendered" / "prod" / "databases" / "orders" / "cluster-orders.yaml").read_bytes()
