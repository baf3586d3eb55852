"""The pure core: same input, same bytes; values cannot inject structure; templates override."""
from __future__ import annotations

import builtins
import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from renderer.catalog.load import load
from renderer.catalog.sources import yaml_files
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle, render
from renderer.rendering.templating import Templates
from tests.conftest import GOLDEN, ROOT, run, tree


def _forbidden(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the pure core touched the outside world")


def test_render_touches_no_clock_file_environment_network_or_randomness(monkeypatch: pytest.MonkeyPatch, example_bundle: Bundle) -> None:
    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    templates = Templates()
    with monkeypatch.context() as patch:
        for target, name in [(builtins, "open"), (os, "open"), (os, "stat"), (os, "getenv"), (time, "time"),
                             (time, "time_ns"), (random, "random"), (socket, "socket"), (os, "urandom")]:
            patch.setattr(target, name, _forbidden)
        patch.setattr(os, "environ", {})
        bundle = render(catalog, "prod", templates)
    assert bundle.files == {k: v for k, v in example_bundle.files.items() if k.startswith("prod/")}


def test_same_bytes_whatever_the_machine_says(tmp_path: Path) -> None:
    """Another process, hash seed, time zone, locale and working folder: the golden bytes."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Kiritimati", "LC_ALL": "C", "LANG": "C"}
    out = tmp_path / "elsewhere"
    subprocess.run(
        [sys.executable, "-m", "renderer", "render", str(ROOT / "catalog"), "--overlays", str(ROOT / "overlays"),
         "-o", str(out)],
        cwd=tmp_path, env=env, check=True, capture_output=True,
    )
    rendered = tree(out)
    del rendered[".dbfleet-manifest.json"]
    assert rendered == tree(GOLDEN)


def test_a_catalog_value_cannot_inject_structure(workdir: Path) -> None:
    # initSQL is free text (SQL); YAML structure in it stays text.
    evil = r"SELECT 'x\"\n  evil: true\nkind: Secret\n# ';"
    catalog = workdir / "catalog" / "sqlite.yaml"
    original = catalog.read_text()
    catalog.write_text(original.replace('initSQL: "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, body BLOB);"',
                                        f'initSQL: "{evil}"'))
    assert catalog.read_text() != original
    assert run("render").exit_code == 0
    text = (workdir / "rendered" / "prod" / "web" / "web-cache" / "configmap-web-cache-litestream.yaml").read_text()
    config = yaml.safe_load(text)
    assert config["kind"] == "ConfigMap"
    assert config["data"]["init.sql"] == "SELECT 'x\"\n  evil: true\nkind: Secret\n# ';"
    assert "evil" not in config


def test_a_quantity_written_as_a_number_renders_as_its_text(workdir: Path) -> None:
    """size: 21474836480 is what 20Gi is: the same objects, the number's text where the suffixed
    text was (some fields take only a string: CloudNativePG's storage.size)."""
    assert run("render").exit_code == 0
    before = tree(workdir / "rendered")
    for path in [*(workdir / "catalog").glob("*.yaml"), *(workdir / "overlays").glob("*.yaml")]:
        text = re.sub(r"\b(size|memory): (\d+)Gi\b", lambda m: f"{m[1]}: {int(m[2]) * 2**30}", path.read_text())
        path.write_text(re.sub(r'\bcpu: "(\d+)"', r"cpu: \1", text))
    result = run("render")
    assert result.exit_code == 0, result.output
    after = tree(workdir / "rendered")
    expected = {path: re.sub(rb'"(\d+)Gi"', lambda m: b'"%d"' % (int(m[1]) * 2**30), content) for path, content in before.items()}
    changed = {path for path in before if after[path] != before[path]} - {".dbfleet-manifest.json"}
    assert len(changed) > 20 and after.keys() == before.keys()
    assert {path: after[path] for path in changed} == {path: expected[path] for path in changed}


def test_templates_can_be_overridden_file_by_file(workdir: Path) -> None:
    override = workdir / "my-templates" / "postgresql"
    override.mkdir(parents=True)
    source = (ROOT / "templates" / "postgresql" / "podmonitor.yaml.j2").read_text()
    (override / "podmonitor.yaml.j2").write_text(source.replace("    - port: metrics", "    - port: metrics\n      interval: 15s"))
    assert run("render", "--templates", "my-templates").exit_code == 0
    monitor = yaml.safe_load((workdir / "rendered/prod/databases/orders/podmonitor-orders.yaml").read_text())
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "interval": "15s"}]
    cluster = workdir / "rendered/prod/databases/orders/cluster-orders.yaml"
    assert cluster.read_bytes() == (GOLDEN / "prod/databases/orders/cluster-orders.yaml").read_bytes()


OBJECT = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: databases}\n"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ cluster.nmae }}\n", "postgresql/podmonitor.yaml.j2: error: template postgresql/podmonitor.yaml.j2: 'dict object' has no attribute 'nmae'"),
        ("{% if %}\n", "my-templates: error: template postgresql/podmonitor.yaml.j2: Expected an expression, got 'end of statement block'"),
        ("kind: [\n", "postgresql/podmonitor.yaml.j2: error: template postgresql/podmonitor.yaml.j2 did not produce valid YAML"),
        ("{{ 1/0 }}\n", "postgresql/podmonitor.yaml.j2: error: template postgresql/podmonitor.yaml.j2: ZeroDivisionError: division by zero"),
        ("{{ 'x' | int + 'y' }}\n", "postgresql/podmonitor.yaml.j2: error: template postgresql/podmonitor.yaml.j2: TypeError:"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: hello\n", "produced metadata without a name"),
        ("apiVersion: v1\nkind: 5\nmetadata: {name: x}\n", "produced kind 5: a kind is a name such as ConfigMap"),
        ("apiVersion: [v1]\nkind: ConfigMap\nmetadata: {name: x}\n", "produced apiVersion ['v1']"),
        (f"{OBJECT}data: {{a: .nan}}\n", "produced data.a: nan is no JSON number"),
        (f"{OBJECT}data: {{a: [2026-01-01]}}\n", "produced data.a[0]: a date value; quote it to make it a string"),
        (f"{OBJECT}binaryData: {{a: !!binary aGVsbG8=}}\n", "produced binaryData.a: a bytes value"),
        (f"{OBJECT}data: {{1: x}}\n", "produced the key 1 at data: keys of an object are strings"),
        (f"{OBJECT}spec: {{n: {2**64}}}\n", f"produced spec.n: {2**64} does not fit a 64-bit integer"),
        (f"{OBJECT}spec: {{n: 1{'0' * 5000}}}\n", "did not produce valid YAML: Exceeds the limit (4300 digits)"),
    ],
)
def test_a_broken_template_is_a_clean_error(workdir: Path, template: str, message: str) -> None:
    override = workdir / "my-templates" / "postgresql"
    override.mkdir(parents=True)
    (override / "podmonitor.yaml.j2").write_text(template)
    result = run("render", "--templates", "my-templates")
    assert result.exit_code == 2
    assert message in result.stderr.splitlines()[0] and "Traceback" not in result.output
    assert not (workdir / "rendered").exists()


def test_render_all_reports_problems_once_and_says_which_environments(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "apiVersion: dbfleet.dev/v1alpha1\nkind: Catalog\nmetadata: {name: acme}\nspec:\n"
        "  clusters:\n    - {name: a, engine: postgresql, version: '16', backup: {method: none}}\n"
    )
    (tmp_path / "dev.yaml").write_text(
        "apiVersion: dbfleet.dev/v1alpha1\nkind: Overlay\nmetadata: {name: dev}\nspec:\n"
        "  clusters:\n    - {name: a, version: latest}\n"
    )
    (tmp_path / "prod.yaml").write_text("apiVersion: dbfleet.dev/v1alpha1\nkind: Overlay\nmetadata: {name: prod}\nspec: {}\n")
    catalog = load([tmp_path / "c.yaml"], [tmp_path / "dev.yaml", tmp_path / "prod.yaml"], tmp_path)
    from renderer.errors import DbfleetError

    with pytest.raises(DbfleetError) as caught:
        render_all(catalog, Templates())
    assert [str(p) for p in caught.value.problems] == [
        "c.yaml:6:7: error: clusters[0].storage.size: CloudNativePG needs a storage size (such as 20Gi) [postgresql]",
        "dev.yaml:6:17: error: clusters[0].version: 'latest' is not a version CloudNativePG 1.30.0 runs: a release line "
        "\"18\" (18.4-system-trixie), \"17\" (17.10-system-trixie), \"16\" (16.14-system-trixie), \"15\" "
        "(15.18-system-trixie), \"14\" (14.23-system-trixie), or a minor of one of them (\"16.4\"), or a build "
        "(dbfleet versions lists them) [postgresql] (in dev)",
    ]


def test_flux_gets_a_git_repository_and_a_root_kustomization_per_environment(workdir: Path) -> None:
    fleet = workdir / "catalog" / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("engine: argocd", "engine: flux"))
    result = run("render")  # validates against the Flux CRDs
    assert result.exit_code == 0, result.output
    gitops = tree(workdir / "rendered" / "dev" / "gitops")
    assert sorted(p for p in gitops if "/" not in p) == ["gitrepository-acme-dev.yaml", "kustomization-acme-dev.yaml",
                                                         "kustomization.yaml"]
    source = yaml.safe_load(gitops["gitrepository-acme-dev.yaml"])
    assert source["metadata"]["namespace"] == "flux-system"
    assert source["spec"]["ref"] == {"branch": "develop"}
    sync = yaml.safe_load(gitops["kustomization-acme-dev.yaml"])
    assert sync["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert sync["spec"]["path"] == "./rendered/dev/gitops/units"  # one Kustomization per unit
    assert sync["spec"]["prune"] is True
    assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "acme-dev"}


def test_forked_workers_give_the_same_bytes_and_problems(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, example_bundle: Bundle) -> None:
    import renderer.rendering.build
    from renderer.validate import Validators, chart_values, is_core

    monkeypatch.setattr(renderer.rendering.build, "PARALLEL_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    # Schemas searched first that every CRD object fails, and a chart whose schema is nowhere.
    for api_version, kind in {(o.data["apiVersion"], o.data["kind"]) for o in example_bundle.objects}:
        if not is_core(api_version):
            schema = tmp_path / api_version.rpartition("/")[0] / f"{kind.lower()}_{api_version.rpartition('/')[2]}.json"
            schema.parent.mkdir(exist_ok=True)
            schema.write_text('{"required": ["status"]}')
    (tmp_path / "charts" / "vcluster-0.36.1").mkdir(parents=True)
    (tmp_path / "charts" / "vcluster-0.36.1" / "values.schema.json").write_text("[]")
    validators = Validators([str(tmp_path)], chart_schema_locations=[str(tmp_path / "charts")])
    parallel = render_all(catalog, Templates(), validators, jobs=2)
    sequential = render_all(catalog, Templates(), Validators([str(tmp_path)], chart_schema_locations=[str(tmp_path / "charts")]), jobs=1)
    assert parallel.files == example_bundle.files
    assert list(parallel.files) == list(example_bundle.files)
    assert [o.path for o in parallel.objects] == [o.path for o in example_bundle.objects]
    assert parallel.problems == sequential.problems
    charts = {chart[:2] for o in example_bundle.objects if (chart := chart_values(o.data))}
    assert len(parallel.problems) == len([o for o in example_bundle.objects if not is_core(o.data["apiVersion"])]) + len(charts)


@pytest.mark.parametrize("read_ahead", [False, True], ids=["catalog-given", "read-ahead"])
def test_a_share_whose_process_sent_nothing_is_planned_again_and_rendered_here(
        monkeypatch: pytest.MonkeyPatch, example_bundle: Bundle, read_ahead: bool) -> None:
    """A forked process killed before it sent its units' objects: this one plans them again
    (it no longer holds them, nor the specs: a catalog read ahead is read again here, from the
    same text) and renders them, to the same bytes; an error it meets is raised."""
    import renderer.rendering.build
    from renderer.catalog.load import load_sources
    from renderer.catalog.reading import Reading
    from renderer.catalog.sources import read_inputs
    from renderer.rendering.templating import TemplateError
    from renderer.validate import Validators

    def rendered(jobs: int) -> Bundle:
        if not read_ahead:
            return render_all(catalog, Templates(), Validators(), jobs=jobs)
        sources = read_inputs(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
        with Reading(lambda: loads.append(os.getpid()) or load_sources(*sources), ahead=True) as reading:
            return renderer.rendering.build.render_read(reading, Templates(), Validators(), jobs=jobs)[1]

    loads: list[int] = []  # the catalogs read in this process

    monkeypatch.setattr(renderer.rendering.build, "PARALLEL_FROM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    here, render = os.getpid(), renderer.rendering.build.render_unit

    def killed_in_a_child(*args: Any) -> Any:
        if os.getpid() != here:
            os._exit(9)
        return render(*args)

    monkeypatch.setattr(renderer.rendering.build, "render_unit", killed_in_a_child)
    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    bundle = rendered(3)
    assert bundle.files == example_bundle.files and not bundle.problems
    assert loads == ([here, here] if read_ahead else [])  # once for each of the two children's shares
    last = example_bundle.objects[-1].path

    def fails_on_the_last_unit(unit: Any, *args: Any) -> Any:
        objects = render(unit, *args)
        if any(obj.path == last for obj in objects):
            raise TemplateError("template x: fails")
        return objects

    monkeypatch.setattr(renderer.rendering.build, "render_unit", fails_on_the_last_unit)
    with pytest.raises(TemplateError, match="template x: fails"):
        rendered(3)


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=60), st.integers(min_value=2, max_value=6))
def test_processes_share_the_units_in_order_and_about_evenly(weights: list[int], jobs: int) -> None:
    """Each process renders a run of consecutive units (the results keep their order), and no
    run's weight (its objects) is further from an even part than the heaviest unit."""
    from renderer.rendering.build import _shares

    shares = _shares(weights, jobs)
    assert 1 <= len(shares) <= jobs and shares[0][0] == 0 and shares[-1][1] == len(weights)
    assert all(end == start for (_, end), (start, _) in zip(shares, shares[1:]))
    if len(shares) == jobs:
        even, heaviest = sum(weights) / jobs, max(weights, default=0)
        assert all(abs(sum(weights[start:end]) - even) <= heaviest for start, end in shares)


@given(st.lists(st.lists(st.sampled_from("abcdefg"), max_size=4), max_size=30))
def test_the_units_rendered_before_the_fork_use_every_template_and_results_keep_their_order(
        templates: list[list[str]]) -> None:
    """Before the children fork, this process renders a unit for each template (no more units
    than templates: the rest is shared); the results come back in the units' order."""
    from renderer.planning.components import Component, Unit
    from renderer.rendering.build import _firsts, _merged

    work = [("dev", Unit((str(i),), "app", str(i), tuple(Component(t, {}, "c", 0) for t in used)))
            for i, used in enumerate(templates)]
    first = _firsts(work)
    warmed = {t for i in first for t in templates[i]}
    assert warmed == {t for used in templates for t in used} and len(first) <= len(warmed)
    assert all(not set(templates[i]) <= {t for j in first if j < i for t in templates[j]} for i in first)
    results = _merged(first, [i for i in range(len(work)) if i in first], [i for i in range(len(work)) if i not in first])
    assert results == list(range(len(work)))


@given(st.from_regex(r"[a-z0-9.-]{1,30}\.yaml", fullmatch=True) | st.text(max_size=12))
def test_a_kustomization_lists_file_names_as_emit_writes_them(name: str) -> None:
    """File names taken as plain without asking emit are those emit writes plain."""
    from renderer.emit import scalar
    from renderer.rendering.render import _kustomization

    if "\n" in name or not name:
        return
    assert _kustomization([name]).decode().splitlines()[-1] == f"  - {scalar(name)}"


def test_objects_written_from_their_skeletons_plan_are_what_emit_writes() -> None:
    """Most objects are built, decorated, from their skeleton's plan and written from it (its
    constant lines once, then the values): byte for byte what emit writes of the object, and the
    very object (its data, as validated) the text of the template, parsed back and decorated, is."""
    from renderer import emit
    from renderer.catalog.reading import check_environment
    from renderer.planning.plan import plan
    from renderer.rendering.render import rendered_components

    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    templates = Templates()
    bundle = render_all(catalog, templates)
    assert [obj.path for obj in bundle.objects if obj.content != emit.dump(obj.data).encode()] == []
    written = [text for env in catalog.environments
               for unit in plan(check_environment(catalog, env)[0], catalog.name, env, templates.kind_of)
               for component, _, text in rendered_components(unit, catalog.name, templates) if not component.file]
    assert len(written) == len(bundle.objects)
    # (not those whose keys or labels are values: a ConfigMap's data, labels the catalog gives)
    assert sum(text is not None for text in written) > 0.75 * len(written)
    parsed_back = render_all(catalog, Templates(skeletons=False))
    assert [(obj.path, obj.data) for obj in bundle.objects] == [(obj.path, obj.data) for obj in parsed_back.objects]
    assert [list(obj.data["metadata"]) for obj in bundle.objects] == [list(obj.data["metadata"]) for obj in parsed_back.objects]
