"""What rendering reads of a catalog, and what it expects the catalog to use before planning it."""
from __future__ import annotations

from pathlib import Path

import pytest

from renderer.catalog.load import Catalog, load
from renderer.catalog.reading import Read, check_environment, expected, read_stages
from renderer.catalog.sources import yaml_files
from renderer.planning.plan import plan
from renderer.rendering.templating import Templates
from tests.conftest import ROOT


def _example(tmp_path: Path, gitops: str, only: str | None = None) -> Catalog:
    """The example catalog (with this GitOps engine; only ``only``'s file of clusters, if given;
    with Argo CD, without the vClusters of servers.yaml: they take a value from a Secret; with the
    overlays only when whole)."""
    whole = only is None and gitops == "flux"
    for name in ("catalog", "overlays"):
        (tmp_path / name).mkdir()
        for source in yaml_files(ROOT / name):
            if not whole and (name == "overlays" or only and source.name not in ("fleet.yaml", f"{only}.yaml")
                              or source.name == "servers.yaml"):
                continue
            text = source.read_text()
            (tmp_path / name / source.name).write_text(text.replace("engine: flux", f"engine: {gitops}"))
    return load(yaml_files(tmp_path / "catalog"), yaml_files(tmp_path / "overlays"), tmp_path)


def _planned(catalog: Catalog, templates: Templates) -> set[str]:
    used = set()
    for env in catalog.environments:
        spec, problems = check_environment(catalog, env)
        assert not [p for p in problems if p.severity == "error"]
        used |= {c.template for unit in plan(spec, catalog.name, env, templates.kind_of) for c in unit.components}
    return used


@pytest.mark.parametrize("gitops", ["argocd", "flux"])
@pytest.mark.parametrize("only", [None, "postgresql", "mysql", "kafka", "sqlite"])
def test_the_templates_expected_are_those_planning_uses_and_few_more(tmp_path: Path, gitops: str, only: str | None) -> None:
    """Compiled and prepared while a large catalog is still read, before it is planned: all that
    planning uses, and nothing of an engine, a section or a GitOps engine the catalog does not have."""
    templates = Templates()
    catalog = _example(tmp_path, gitops, only)
    used = _planned(catalog, templates)
    expecting = set(expected([catalog.spec, *catalog.overlays.values()]).templates(templates.names))
    assert used <= expecting
    folders = {name.split("/")[0] for name in used}
    assert {name.split("/")[0] for name in expecting} == folders | {"common"}
    other_engine = {"argocd": {"gitops/gitrepository.yaml.j2", "gitops/kustomization.yaml.j2"},
                    "flux": {"gitops/applicationset.yaml.j2", "gitops/argocd-unit.yaml.j2", "gitops/argocd-cm.yaml.j2"}}
    assert not other_engine[gitops] & expecting or (only, gitops) == (None, "flux")  # (production is on Argo CD)


def test_the_stages_of_a_read_are_what_reading_here_gives(tmp_path: Path) -> None:
    catalog = _example(tmp_path, "flux")
    expecting, read, problems = list(read_stages(lambda: catalog))
    assert isinstance(read, Read) and read.environments == catalog.environments and read.sources == catalog.sources
    assert read.specs == {env: check_environment(catalog, env)[0] for env in catalog.environments}
    assert expecting == expected([catalog.spec, *catalog.overlays.values()]) and isinstance(problems, list)
