"""Hostile values in every string field of a catalog: a clean error or a render, never a crash, and
never a value that escapes its place in a script, a configuration file or the YAML.  Values of
another type anywhere, and keys that are not strings: a clean error or a render (compiled code
checks the types it is annotated with: setup.py).

The base (tests/fuzz/catalog.yaml) holds a value in every string field of the catalog's schema; each
example replaces one of them (or one key of a settings map) with a generated value.  Examples are
derandomised, so CI runs the same ones; DBFLEET_FUZZ_EXAMPLES=5000 runs that many random ones.
"""
from __future__ import annotations

import contextlib
import copy
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.catalog.load import load
from renderer.catalog.positioned import load_documents
from renderer.catalog.schema import CATALOG_SCHEMA
from renderer.rendering.build import render_all
from renderer.rendering.templating import Templates
from tests.conftest import run, tree



def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    return [_plain(item) for item in node] if isinstance(node, list) else node


# Read as dbfleet reads catalogs (YAML 1.2: PyYAML alone would read the key "on" as true).
BASE = _plain(load_documents((Path(__file__).parent / "fuzz" / "catalog.yaml").read_text(), "catalog.yaml")[0][0])
EXAMPLES = int(os.environ.get("DBFLEET_FUZZ_EXAMPLES", "100"))  # about 25 s
# Fields that are text by design: a line break in them is content, not structure.
FREE_TEXT = {("spec", "clusters", "*", "sqlite", "initSQL")}
# Maps whose keys are the user's (settings): their keys are fuzzed too.
KEYED = {"parameters", "config", "nodeSelector", "filter"}
MONGOD_CONF = ("spec", "replsets", "*", "configuration")

Path_ = tuple[Any, ...]


def _string_fields(schema: dict[str, Any], at: Path_ = ()) -> Iterator[Path_]:
    """Every place the schema holds a free string ("*": any list item or map key)."""
    types = schema.get("type")
    if "enum" in schema or "const" in schema:
        return
    if types == "string" or (isinstance(types, list) and "string" in types and "number" not in types):
        yield at
    for key, sub in (schema.get("properties") or {}).items():
        yield from _string_fields(sub, (*at, key))
    if isinstance(schema.get("items"), dict):
        yield from _string_fields(schema["items"], (*at, "*"))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _string_fields(extra, (*at, "*"))


def _leaves(node: Any, at: Path_ = ()) -> Iterator[tuple[Path_, bool]]:
    """(path, is_key) of every string value in the base, and of every key of a settings map."""
    if isinstance(node, dict):
        for key, value in node.items():
            if at and at[-1] in KEYED:
                yield (*at, key), True
            yield from _leaves(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*at, index))
    elif isinstance(node, str):
        yield at, False


def _general(path: Path_) -> Path_:
    """The schema's view of a path: list indexes and settings keys as "*"."""
    out: list[Any] = []
    for step in path:
        out.append("*" if isinstance(step, int) or (out and out[-1] in KEYED) else step)
    return tuple(out)


FIELDS = sorted(set(_leaves(BASE)), key=repr)


def test_the_base_holds_every_string_field_of_the_schema() -> None:
    wanted = {path for path in _string_fields(CATALOG_SCHEMA) if path[:1] in (("spec",), ("metadata",))}
    held = {_general(path) for path, _ in FIELDS}
    # vCluster values are the chart's: its own schema checks them (test_vclusters_and_proxy).
    missing = {path for path in wanted - held if "values" not in path}
    assert not missing, f"tests/fuzz/catalog.yaml has no value at {sorted(missing)}"


HOSTILE = [
    "", " ", "\n", "a\nb", "x\n[client]\npassword=x", "$(id)", "`id`", "${HOME}", "'; DROP TABLE x; --", '"', "'",
    "\\", "a\\", "#", "a #b", "..", "../../etc/passwd", "/etc/passwd", "-rf", "--help", "*", "?", "a b", "\t",
    "\x00", "\x1b[31m", "\u2028", "\ufeff", "é", "日本", "A" * 300, "x" * 70, "1e3", "0x1f", "yes", "null", "~",
    "{a: 1}", "[1]", "&a", "*a", "!!python/object:os.system", "%", "@", "key: value", "a=b", "a;b", "a|b", "a&b",
    "https://u:p@h/x", "password=hunter2", "-----BEGIN PRIVATE KEY-----", "{{ 7*7 }}", "{% raw %}", "\r\n",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.tuples(st.sampled_from(["db", "orders", "x1"]), st.sampled_from(HOSTILE)).map("".join),
)


def _replace(catalog: dict[str, Any], path: Path_, is_key: bool, value: str) -> None:
    node = catalog
    for step in path[:-1]:
        node = node[step]
    if is_key:
        node[value] = node.pop(path[-1])
    else:
        node[path[-1]] = value


@contextlib.contextmanager
def _in(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _strings(node: Any, at: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*at, key))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, (*at, "*"))
    elif isinstance(node, str):
        yield at, node


def _shape(files: dict[str, bytes]) -> tuple[Counter[str], Counter[tuple[Any, ...]], set[str]]:
    """What a value must not change: how many objects of each kind, how many lines each embedded
    file (configuration, script, SQL) has, by kind and place, and the scripts themselves."""
    kinds: Counter[str] = Counter()
    lines: Counter[tuple[Any, ...]] = Counter()
    scripts: set[str] = set()
    for path, content in files.items():
        if not path.endswith(".yaml") or path.endswith("kustomization.yaml"):
            continue
        obj = yaml.safe_load(content)
        if obj["kind"] != "Namespace":  # entries may move into one namespace, or apart
            kinds[obj["kind"]] += 1
        for at, text in _strings(obj):
            if "\n" in text:
                lines[(obj["kind"], at)] += text.count("\n") + 1
            if text.startswith("#!"):
                scripts.add(text)
    return kinds, lines, scripts


@pytest.fixture(scope="module")
def base_shape(tmp_path_factory: pytest.TempPathFactory) -> tuple[Counter[str], Counter[tuple[Any, ...]], set[str]]:
    folder = tmp_path_factory.mktemp("base")
    (folder / "catalog").mkdir()
    (folder / "catalog" / "fleet.yaml").write_text(yaml.safe_dump(BASE, allow_unicode=True))
    with _in(folder):
        result = run("render")
    assert result.exit_code == 0, result.output
    return _shape(tree(folder / "rendered"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize="DBFLEET_FUZZ_EXAMPLES" not in os.environ, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_a_hostile_value_is_an_error_or_stays_in_its_place(
    field: tuple[Path_, bool], value: str, base_shape: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path, is_key = field
    catalog = copy.deepcopy(BASE)
    _replace(catalog, path, is_key, value)
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "catalog").mkdir()
    (folder / "catalog" / "fleet.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    with _in(folder):
        result = run("render")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), f"{path} = {value!r}: exit {result.exit_code}\n{result.output}"
    if result.exit_code == 2:
        assert not (folder / "rendered").exists()
        assert "error:" in result.stderr
        return
    files = tree(folder / "rendered")
    # Built from the templates' skeletons, byte for byte what parsing each text back gives.
    parsed_back = render_all(load([folder / "catalog" / "fleet.yaml"], [], folder), Templates(skeletons=False)).files
    assert {path: files[path] for path in parsed_back} == parsed_back, f"{path} = {value!r}"
    kinds, lines, scripts = _shape(files)
    base_kinds, base_lines, base_scripts = base_shape
    assert kinds == base_kinds, f"{path} = {value!r} changed the objects"
    assert scripts <= base_scripts, f"{path} = {value!r} reached a script"
    if _general(path) not in FREE_TEXT:
        expected = Counter(base_lines)
        if is_key and path[-3:-1] == (4, "parameters"):  # mongod.conf nests dotted names, a line each
            expected[("PerconaServerMongoDB", MONGOD_CONF)] += value.count(".") - str(path[-1]).count(".")
        assert lines == expected, f"{path} = {value!r} changed the lines of an embedded file"


def _nodes(node: Any, at: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield at, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _nodes(value, (*at, key))


NODES = [path for path, _ in _nodes(BASE)]
OTHER_TYPES = st.sampled_from([0, 1, -1, 1.5, float("inf"), True, False, None, [], {}, ["x"], {"a": 1}, [[1]],
                               {"a": {"b": [1]}}, "x"])
# A key YAML reads as another type than a string, added to a mapping.
OTHER_KEYS = st.sampled_from([1, True, None, 1.5])


@settings(max_examples=EXAMPLES, deadline=None, derandomize="DBFLEET_FUZZ_EXAMPLES" not in os.environ, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(NODES), value=OTHER_TYPES, key=st.none() | OTHER_KEYS)
def test_a_value_of_another_type_is_an_error_never_a_crash(
    path: Path_, value: Any, key: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    catalog = copy.deepcopy(BASE)
    parent, node = None, catalog
    for step in path:
        parent, node = node, node[step]
    if key is not None and isinstance(node, dict):
        node[key] = value
    elif parent is not None:
        parent[path[-1]] = value
    folder = tmp_path_factory.mktemp("types")
    (folder / "catalog").mkdir()
    (folder / "catalog" / "fleet.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    with _in(folder):
        result = run("render", "--jobs", "1")
    assert "Traceback" not in result.output
    # never 3 (the catalog valid, the output not): what the catalog takes, dbfleet writes validly
    # (every one of this test's 13,005 cases was run once: 0 or 2 each)
    assert result.exit_code in (0, 2), f"{path} = {value!r} (key {key!r}): exit {result.exit_code}\n{result.output}"
    assert (folder / "rendered").exists() == (result.exit_code == 0)
