"""Merging catalog files, overlays and defaults."""
from __future__ import annotations

from pathlib import Path

import pytest

from renderer.catalog.load import Catalog, load, merge, resolve, with_schema_defaults
from renderer.catalog.positioned import load_documents
from renderer.catalog.sources import Source
from renderer.errors import DbfleetError
from tests.conftest import ROOT

HEAD = "apiVersion: dbfleet.dev/v1alpha1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n"


def node(text: str) -> object:
    docs, problems = load_documents(text, "t.yaml")
    assert problems == []
    return docs[0]


@pytest.mark.parametrize(
    ("base", "over", "merged"),
    [
        ("a: {x: 1, y: 2}", "a: {y: 3, z: 4}", {"a": {"x": 1, "y": 3, "z": 4}}),
        ("a: {x: 1, y: 2}", "a: {y: null}", {"a": {"x": 1}}),
        ("a: [1, 2]", "a: [3]", {"a": [3]}),
        ("l: [{name: a, v: 1}, {name: b, v: 2}]", "l: [{name: b, v: 3}, {name: c}]",
         {"l": [{"name": "a", "v": 1}, {"name": "b", "v": 3}, {"name": "c"}]}),
        ("a: 1", "a: {x: 1}", {"a": {"x": 1}}),
    ],
)
def test_overlay_merge_semantics(base: str, over: str, merged: object) -> None:
    assert merge(node(base), node(over)) == merged


def test_merged_values_keep_the_position_of_the_winner() -> None:
    result = merge(node("a:\n  x: 1\n  y: 2\n"), node("a: {y: 3}\n"))
    assert str(result["a"].keymarks["x"]) == "t.yaml:2:3"
    assert str(result["a"].keymarks["y"]) == "t.yaml:1:5"


def _catalog(tmp_path: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, body in files.items():
        path = tmp_path / name
        path.write_text(body)
        paths.append(path)
    return paths


def test_files_merge_into_one_catalog(tmp_path: Path) -> None:
    paths = _catalog(tmp_path, {
        "a.yaml": HEAD.format(kind="Catalog", name="acme") + "  defaults: {namespace: db}\n"
        "  clusters: [{name: one, engine: postgresql}]\n",
        "b.yaml": HEAD.format(kind="Catalog", name="acme") + "  clusters: [{name: two, engine: postgresql}]\n",
    })
    catalog = load(paths, [], tmp_path)
    assert [c["name"] for c in catalog.spec["clusters"]] == ["one", "two"]
    assert catalog.environments == ["default"]


def test_files_must_agree_on_the_fleet_and_define_sections_once(tmp_path: Path) -> None:
    paths = _catalog(tmp_path, {
        "a.yaml": HEAD.format(kind="Catalog", name="acme") + "  gitops: {engine: flux, repoURL: https://x}\n",
        "b.yaml": HEAD.format(kind="Catalog", name="other") + "  gitops: {engine: flux, repoURL: https://y}\n",
    })
    with pytest.raises(DbfleetError) as caught:
        load(paths, [], tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "b.yaml:4:3: error: metadata.name: 'other' differs from 'acme' in a.yaml; all catalog files describe one fleet",
        "b.yaml:6:3: error: gitops: defined twice (first at a.yaml:6:3)",
    ]


def test_an_overlay_in_the_catalog_folder_is_refused(tmp_path: Path) -> None:
    paths = _catalog(tmp_path, {"a.yaml": HEAD.format(kind="Overlay", name="dev") + "  clusters: []\n"})
    with pytest.raises(DbfleetError) as caught:
        load(paths, [], tmp_path)
    assert str(caught.value.problems[0]) == "a.yaml:2:1: error: kind: Overlay is not expected here; this folder holds Catalog documents"


def test_defaults_go_under_entries_and_overlays_over_them(tmp_path: Path) -> None:
    catalog_text = HEAD.format(kind="Catalog", name="acme") + (
        "  defaults: {namespace: db, backup: {schedule: '0 3 * * *', store: s3}, monitoring: {enabled: true}}\n"
        "  clusters:\n"
        "    - {name: one, engine: postgresql, backup: {retention: 7d}}\n"
    )
    overlay_text = HEAD.format(kind="Overlay", name="dev") + "  defaults: {monitoring: {enabled: false}}\n"
    paths = _catalog(tmp_path, {"c.yaml": catalog_text, "dev.yaml": overlay_text})
    catalog = load(paths[:1], paths[1:], tmp_path)
    cluster = resolve(catalog, "dev")["clusters"][0]
    assert cluster["namespace"] == "db"
    assert cluster["backup"] == {"schedule": "0 3 * * *", "store": "s3", "retention": "7d"}
    assert cluster["monitoring"] == {"enabled": False}
    assert resolve(catalog, "default")["clusters"][0]["monitoring"] == {"enabled": True}


def test_schema_defaults_fill_what_templates_read() -> None:
    filled = with_schema_defaults({"clusters": [{"name": "a", "engine": "postgresql"}]})
    cluster = filled["clusters"][0]
    assert cluster["replicas"] == 1
    assert cluster["pooler"] == {"enabled": False, "replicas": 2, "mode": "session", "parameters": None}
    assert cluster["restore"] is None  # an object with required keys: absent means not asked for
    assert cluster["databases"] == []


def test_a_quantity_written_as_a_number_becomes_its_text() -> None:
    entry = {"name": "a", "engine": "postgresql", "replicas": 3, "storage": {"size": 20},
             "resources": {"cpu": 0.5, "memory": 1e20}}
    cluster = with_schema_defaults({"clusters": [entry]})["clusters"][0]
    assert (cluster["storage"]["size"], cluster["resources"], cluster["replicas"]) == ("20", {"cpu": "0.5", "memory": "1e+20"}, 3)


def test_sources_are_kept_for_digests(tmp_path: Path) -> None:
    paths = _catalog(tmp_path, {"a.yaml": HEAD.format(kind="Catalog", name="acme") + "  clusters: []\n"})
    catalog: Catalog = load(paths, [], tmp_path)
    assert catalog.sources == (Source("a.yaml", paths[0].read_text()),)


@pytest.mark.parametrize("name", ["postgresql.yaml", "servers.yaml", "sqlite.yaml"])
def test_every_truncation_of_a_catalog_file_is_an_error_or_a_render_never_a_crash(name: str, tmp_path: Path) -> None:
    """A file cut anywhere (an editor's unsaved buffer, a bad merge) is bad input, not a traceback."""
    from renderer.rendering.build import render_all
    from renderer.rendering.templating import Templates

    sources = {p.name: p.read_text() for p in (ROOT / "catalog").glob("*.yaml")}
    for other, text in sources.items():
        (tmp_path / other).write_text(text)
    templates = Templates()
    text = sources[name]
    for cut in range(0, len(text), 11):
        (tmp_path / name).write_text(text[:cut])
        try:
            render_all(load(sorted(tmp_path.glob("*.yaml")), [], tmp_path), templates)
        except DbfleetError:
            pass
