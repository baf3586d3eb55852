"""Flux health checks, run for real (cel-python) as kustomize-controller runs them, against the
states each operator reports, and read against the pinned CRDs' status schemas."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import celpy
import pytest
import yaml

from renderer.engines import health
from renderer.rendering.templating import Templates
from renderer.schemas import EMBEDDED_CRDS
from tests.conftest import run

CURRENT, FAILED, IN_PROGRESS = "Current", "Failed", "InProgress"


def flux_status(check: health.Check, obj: dict[str, Any]) -> str:
    """fluxcd/pkg runtime/cel/status_evaluator.go Evaluate: observedGeneration first, then
    inProgress, failed, current; the first true wins, none is in progress."""
    observed = (obj.get("status") or {}).get("observedGeneration")
    if observed is not None and observed != (obj.get("metadata") or {}).get("generation", observed):
        return IN_PROGRESS
    environment = celpy.Environment()
    activation = {key: celpy.json_to_cel(value) for key, value in obj.items()}  # the object's fields, undeclared
    for expression, outcome in ((check.in_progress, IN_PROGRESS), (check.failed, FAILED), (check.current, CURRENT)):
        if expression and environment.program(environment.compile(expression)).evaluate(activation):
            return outcome
    return IN_PROGRESS


def _conditions(kind: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"conditions": [{"type": kind, "status": status, **extra}]}


# Each kind: (status, what Flux must make of it).  Where the states come from is said in
# renderer/engines/health.py, next to the check.
FIXTURES: dict[str, list[tuple[dict[str, Any], str]]] = {
    "Cluster": [
        ({"phase": "Cluster in healthy state", **_conditions("Ready", "True")}, CURRENT),
        ({"phase": "Setting up primary"}, IN_PROGRESS),
        ({"phase": "Upgrading cluster", **_conditions("Ready", "False")}, IN_PROGRESS),  # a planned upgrade is no failure
        ({"phase": "Cluster is unrecoverable and needs manual intervention", **_conditions("Ready", "False")}, FAILED),
    ],
    "Pooler": [({"phase": "active", "instances": 2}, CURRENT), ({"phase": "paused"}, CURRENT),
               ({"phase": "inactive"}, IN_PROGRESS), ({}, IN_PROGRESS), ({"phase": "failed", "error": "x"}, FAILED)],
    "Database": [({"applied": True, "observedGeneration": 1}, CURRENT), ({}, IN_PROGRESS),
                 ({"applied": False, "message": "role missing"}, FAILED)],
    "ScheduledBackup": [({"lastCheckTime": "2026-11-22T03:00:00Z"}, CURRENT), ({}, IN_PROGRESS),
                        ({"error": "cannot parse schedule"}, FAILED)],
    "ObjectStore": [({}, CURRENT)],
    "Backup": [({"phase": "running"}, CURRENT), ({"phase": "completed"}, CURRENT), ({"phase": "pending"}, IN_PROGRESS),
               ({}, IN_PROGRESS), ({"phase": "failed", "error": "x"}, FAILED), ({"phase": "walArchivingFailing"}, FAILED)],
    "PerconaXtraDBClusterBackup": [({"state": "Running"}, CURRENT), ({"state": "Succeeded"}, CURRENT),
                                   ({"state": ""}, IN_PROGRESS), ({"state": "Suspended"}, IN_PROGRESS),
                                   ({"state": "Failed"}, FAILED)],
    "PerconaServerMongoDBBackup": [({"state": "running"}, CURRENT), ({"state": "ready"}, CURRENT),
                                   ({"state": "waiting"}, IN_PROGRESS), ({"state": "error"}, FAILED)],
    "PerconaXtraDBCluster": [({"state": "ready"}, CURRENT), ({"state": "initializing"}, IN_PROGRESS),
                             ({"state": "error"}, FAILED), ({}, IN_PROGRESS)],
    "PerconaXtraDBClusterRestore": [({"state": "Succeeded"}, CURRENT), ({"state": "Restoring"}, IN_PROGRESS),
                                    ({"state": "Failed"}, FAILED)],
    "PerconaServerMongoDB": [({"state": "ready"}, CURRENT), ({"state": "sharding"}, IN_PROGRESS), ({"state": "error"}, FAILED)],
    "PerconaServerMongoDBRestore": [({"state": "ready"}, CURRENT), ({"state": "running"}, IN_PROGRESS),
                                    ({"state": "rejected"}, FAILED), ({"state": "error"}, FAILED)],
    "Kafka": [(_conditions("Ready", "True", observedGeneration=1), CURRENT), (_conditions("NotReady", "True"), IN_PROGRESS),
              (_conditions("Ready", "False", reason="KafkaStorageError"), FAILED)],
    "KafkaNodePool": [({"replicas": 3, "nodeIds": [0, 1, 2]}, CURRENT), ({"replicas": 2}, IN_PROGRESS), ({}, IN_PROGRESS)],
    "KafkaTopic": [(_conditions("Ready", "True"), CURRENT), (_conditions("Ready", "False", reason="InvalidResource"), FAILED),
                   ({}, IN_PROGRESS)],
    "KafkaUser": [(_conditions("Ready", "True"), CURRENT), (_conditions("Ready", "False"), FAILED)],
    "ExternalSecret": [(_conditions("Ready", "True", reason="SecretSynced"), CURRENT),
                       (_conditions("Ready", "False", reason="SecretSyncedError"), FAILED), ({}, IN_PROGRESS)],
    "HelmRelease": [(_conditions("Ready", "True"), CURRENT), (_conditions("Ready", "Unknown", reason="Progressing"), IN_PROGRESS),
                    ({"conditions": [{"type": "Ready", "status": "False"}, {"type": "Stalled", "status": "True"}]}, FAILED)],
}


@pytest.mark.parametrize("check", health.CHECKS, ids=lambda c: c.kind)
def test_each_check_reads_the_states_its_operator_reports(check: health.Check) -> None:
    assert FIXTURES[check.kind], f"no fixture for {check.kind}"
    for status, expected in FIXTURES[check.kind]:
        obj = {"apiVersion": check.api_version, "kind": check.kind, "metadata": {"name": "x", "generation": 1},
               "spec": {"replicas": 3}, "status": status}
        assert flux_status(check, obj) == expected, (check.kind, status)


def _crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    return json.loads((Path(str(EMBEDDED_CRDS)) / group / f"{kind.lower()}_{version}.json").read_text())


@pytest.mark.parametrize("check", health.CHECKS, ids=lambda c: c.kind)
def test_each_field_a_check_reads_is_in_the_pinned_crd(check: health.Check) -> None:
    schema = _crd_schema(check.api_version, check.kind)
    for expression in (check.current, check.failed, check.in_progress):
        for top, field in re.findall(r"\b(status|spec)\.(\w+)", expression):
            properties = schema["properties"][top].get("properties", {})
            assert field in properties, f"{check.kind}: {top}.{field} is not in the CRD ({sorted(properties)})"


# Kinds with no state to wait for, or whose own controllers Flux already reads (kstatus).
NO_CHECK = {"PodMonitor", "PrometheusRule", "GitRepository", "HelmRepository", "Kustomization", "Application", "ApplicationSet", "Component"}


def test_every_custom_kind_the_templates_render_has_a_check() -> None:
    templates = Templates()
    kinds = {templates.kind_of(name) for name in templates.names}
    custom = {k for k in kinds if k and "." in k[0].split("/")[0] and not k[0].split("/")[0].endswith(".k8s.io")}
    missing = {k for k in custom if k not in health.BY_KIND and k[1] not in NO_CHECK}
    assert not missing


def test_each_flux_kustomization_waits_for_each_kind_of_its_unit(workdir: Path) -> None:
    assert run("render").exit_code == 0
    units = sorted((workdir / "rendered/dev/gitops/units").glob("kustomization-*.yaml"))
    assert len(units) > 20
    for path in units:
        kustomization = yaml.safe_load(path.read_text())
        folder = workdir / kustomization["spec"]["path"]
        objects = [yaml.safe_load((folder / name).read_text())
                   for name in yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]]
        checked = {(c["apiVersion"], c["kind"]) for c in kustomization["spec"].get("healthCheckExprs", [])}
        assert checked == {(o["apiVersion"], o["kind"]) for o in objects} & set(health.BY_KIND), path.name
        assert kustomization["spec"]["wait"] is True
        holds_data = any("kustomize.toolkit.fluxcd.io/prune" in o["metadata"]["annotations"] for o in objects)
        # Deleting the Kustomization of a unit that holds data never deletes a database.
        assert kustomization["spec"].get("deletionPolicy") == ("Orphan" if holds_data else None), path.name
