"""Output validation against the pinned CRD schemas and strict Kubernetes schemas."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderer.render import RenderedObject
from renderer.validate import Validators, is_core


def messages(validators: Validators, data: dict[str, Any]) -> list[str]:
    return [p.message for p in validators.problems(RenderedObject("x.yaml", data))]


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
            "spec": {"ports": [{"port": 5432}], **spec}}


@pytest.mark.parametrize(
    ("api_version", "core"),
    [("v1", True), ("apps/v1", True), ("rbac.authorization.k8s.io/v1", True),
     ("postgresql.cnpg.io/v1", False), ("argoproj.io/v1alpha1", False)],
)
def test_core_kinds_are_told_from_crds(api_version: str, core: bool) -> None:
    assert is_core(api_version) is core


def test_core_kinds_are_strict(crds: Path) -> None:
    validators = Validators([str(crds)])
    assert messages(validators, service()) == []
    assert messages(validators, service(selectr={"a": "b"})) == [
        "Service/s: spec: Additional properties are not allowed ('selectr' was unexpected)"
    ]


def test_crds_are_strict(crds: Path) -> None:
    validators = Validators([str(crds)])
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "c"},
               "spec": {"instances": "3", "storage": {"size": "1Gi"}, "imagename": "x"}}
    assert sorted(messages(validators, cluster)) == [
        "Cluster/c: spec.instances: '3' is not of type 'integer'",
        "Cluster/c: spec: Additional properties are not allowed ('imagename' was unexpected)",
    ]


def test_a_missing_schema_is_an_error_unless_ignored(tmp_path: Path) -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    validators = Validators([str(tmp_path)])
    assert validators.validate([RenderedObject("a.yaml", obj), RenderedObject("b.yaml", obj)]) == []
    assert [str(p) for p in validators.missing_problems()] == [
        f"a.yaml: error: no schema for Widget example.com/v1 (looked in {tmp_path}/example.com/widget_v1.json); "
        "objects of this kind are not validated (or give --ignore-missing-schemas)"
    ]
    ignoring = Validators([str(tmp_path)], ignore_missing=True)
    assert ignoring.validate([RenderedObject("a.yaml", obj)]) == ignoring.missing_problems() == []


def test_metadata_is_checked_as_the_api_server_would(crds: Path) -> None:
    obj = service()
    obj["metadata"] = {"name": "Bad_Name", "namespace": "n", "labels": {"a": "x" * 64}}
    assert messages(Validators([str(crds)]), obj) == [
        "Service/Bad_Name: metadata.name: 'Bad_Name' is not a valid Kubernetes name",
        f"Service/Bad_Name: metadata.labels.a: {'x' * 64!r} is not a valid label value",
    ]


def test_one_compiled_validator_per_schema(crds: Path) -> None:
    validators = Validators([str(crds)])
    first = validators.validator("postgresql.cnpg.io/v1", "Cluster")
    assert validators.validator("postgresql.cnpg.io/v1", "Cluster") is first
    assert validators.validator("v1", "Service") is validators.validator("v1", "Service")


def test_an_unknown_kubernetes_version_is_reported() -> None:
    validators = Validators([], kube_version="1.10")
    assert messages(validators, service()) == []
    assert [p.message for p in validators.missing_problems()] == [
        "kubernetes-validate has no schemas for Kubernetes 1.10; objects of this kind are not validated "
        "(or give --ignore-missing-schemas)"
    ]
