"""Argo CD health checks (Lua, in the argocd-cm patch), run by a real Lua 5.1 interpreter as Argo
CD's gopher-lua runs them, against the same operator states as the Flux checks, and read against
the pinned CRDs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderer.engines import health
from renderer.rendering.templating import Templates
from tests.conftest import run
from tests.test_health import CURRENT, FAILED, FIXTURES, IN_PROGRESS, _conditions, _crd_schema

# What Argo CD should show for what Flux makes of the same object: a paused pooler or a
# hibernated cluster is Suspended, ready all the same.
ARGOCD_FOR_FLUX = {CURRENT: {"Healthy", "Suspended"}, FAILED: {"Degraded"}, IN_PROGRESS: {"Progressing"}}

# Argo CD's own CNPG Cluster test data (argo-cd v3.1.16,
# resource_customizations/postgresql.cnpg.io/Cluster/testdata/*.yaml), the statuses only, with what
# the better check makes of them: a planned major upgrade, new settings and a switchover are
# progress, which Argo CD's built-in check calls Degraded.
CNPG_CLUSTER = [
    ({"phase": "Cluster in healthy state", **_conditions("Ready", "True", reason="ClusterIsReady")}, "Healthy"),
    ({"phase": "Setting up primary", "phaseReason": "Creating primary instance cluster-example-1"}, "Progressing"),
    ({"phase": "Cluster in healthy state", "conditions": [
        {"type": "Ready", "status": "True"},
        {"type": "cnpg.io/hibernation", "status": "True", "message": "Cluster has been hibernated"}]}, "Suspended"),
    ({"phase": "Upgrading Postgres major version", **_conditions("Ready", "False")}, "Progressing"),
    ({"phase": "Applying configuration", **_conditions("Ready", "False")}, "Progressing"),
    ({"phase": "Switchover in progress", **_conditions("Ready", "False")}, "Progressing"),
    ({"phase": "Cluster is unrecoverable and needs manual intervention", **_conditions("Ready", "False")}, "Degraded"),
    ({"phase": "Unable to create required cluster objects"}, "Degraded"),
]


def lua_table(value: Any) -> str:
    """A Lua 5.1 table constructor for a JSON value (as Argo CD hands ``obj`` to a script)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{json.dumps(k)}] = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    return json.dumps(value)


def argocd_health(script: str, objects: list[dict[str, Any]]) -> list[str]:
    """Each object's health status, by the script, in one Lua 5.1 process."""
    lua = shutil.which("lua5.1")
    if lua is None:
        pytest.skip("lua5.1 is not installed (CI installs Debian's lua5.1)")
    chunks = [f"obj = {lua_table(obj)}\nlocal hs = (function()\n{script}\nend)()\nprint(hs.status)\n" for obj in objects]
    result = subprocess.run([lua, "-"], input="".join(chunks), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def script_of(api_version: str, kind: str) -> str:
    return Templates()._assets[f"gitops/health/{api_version.split('/')[0]}_{kind}.lua"]


def _object(api_version: str, kind: str, status: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "generation": 1},
            "spec": {"replicas": 3}, "status": status}


@pytest.mark.parametrize(("api_version", "kind"), health.ARGOCD_LUA, ids=lambda v: v)
def test_each_lua_check_agrees_with_the_flux_check(api_version: str, kind: str) -> None:
    cases = FIXTURES[kind]
    got = argocd_health(script_of(api_version, kind), [_object(api_version, kind, status) for status, _ in cases])
    for (status, flux), argocd in zip(cases, got, strict=True):
        assert argocd in ARGOCD_FOR_FLUX[flux], (kind, status, argocd)


def test_the_cnpg_cluster_check_reads_argocds_own_test_data_and_lets_planned_work_progress() -> None:
    got = argocd_health(script_of("postgresql.cnpg.io/v1", "Cluster"),
                        [_object("postgresql.cnpg.io/v1", "Cluster", status) for status, _ in CNPG_CLUSTER])
    assert got == [expected for _, expected in CNPG_CLUSTER]


def test_an_object_without_status_is_progressing_never_an_error() -> None:
    for api_version, kind in health.ARGOCD_LUA:
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}}
        assert argocd_health(script_of(api_version, kind), [obj]) in (["Progressing"], ["Healthy"]), kind


@pytest.mark.parametrize(("api_version", "kind"), health.ARGOCD_LUA, ids=lambda v: v)
def test_each_field_a_lua_check_reads_is_in_the_pinned_crd(api_version: str, kind: str) -> None:
    schema = _crd_schema(api_version, kind)
    for top, field in re.findall(r"obj\.(status|spec)\.([A-Za-z]+)", script_of(api_version, kind)):
        properties = schema["properties"][top].get("properties", {})
        assert field in properties, f"{kind}: {top}.{field} is not in the CRD ({sorted(properties)})"


def test_the_argocd_cm_patch_holds_a_check_for_each_kind_argocd_lacks(workdir: Path) -> None:
    assert run("render").exit_code == 0
    patch = yaml.safe_load((workdir / "rendered/prod/gitops/argocd-cm-health.yaml").read_text())
    # Argo CD reads its own ConfigMap only while it is labelled part-of: argocd; the patch claims
    # no label, so applying it never takes that away.
    assert patch["metadata"] == {"name": "argocd-cm", "namespace": "argocd"}
    rendered = set()
    for path in (workdir / "rendered/prod").rglob("*.yaml"):
        obj = yaml.safe_load(path.read_text())
        rendered.add((obj.get("apiVersion"), obj.get("kind")))
    expected = {f"resource.customizations.health.{a.split('/')[0]}_{k}" for a, k in health.ARGOCD_LUA if (a, k) in rendered}
    assert set(patch["data"]) == expected
    assert "resource.customizations.health.postgresql.cnpg.io_Pooler" in expected
    for key, script in patch["data"].items():
        api_version, kind = next((a, k) for a, k in health.ARGOCD_LUA if key.endswith(f".{a.split('/')[0]}_{k}"))
        assert argocd_health(script, [_object(api_version, kind, FIXTURES[kind][0][0])]) in (["Healthy"], ["Suspended"])
