"""GitOps delivery: one small kustomize root per unit, built for real with kubectl; Flux order by
dependsOn; the Argo CD ApplicationSet and its parameter files; placement; shards."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderer.engines import gitops
from tests.conftest import run


def kubectl_kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot check that kustomize builds the output")
    built = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return [d for d in yaml.safe_load_all(built.stdout) if d]


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def flux_units(env_folder: Path) -> dict[str, dict[str, Any]]:
    """Every unit Kustomization by name, whether in shards or not."""
    found = {}
    for path in (env_folder / "gitops" / "units").rglob("kustomization-*.yaml"):
        obj = load(path)
        if not obj["metadata"]["name"].startswith(f"{obj['spec']['sourceRef']['name']}-units-"):
            found[obj["metadata"]["name"]] = obj
    return found


def applied_objects(env_folder: Path) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every object to apply, but the GitOps bootstrap."""
    found = []
    for kustomization in env_folder.rglob("kustomization.yaml"):
        listed = load(kustomization)
        if listed["kind"] == "Component" or kustomization.parent.name == "gitops" or "gitops" in kustomization.parts[-3:-1]:
            continue
        for name in listed["resources"]:
            obj = load(kustomization.parent / name)
            found.append((obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
    return sorted(found)


@pytest.fixture
def rendered(workdir: Path) -> Path:
    result = run("render")
    assert result.exit_code == 0, result.output
    return workdir / "rendered"


def test_flux_builds_every_root_it_points_at_and_each_holds_one_unit(rendered: Path, workdir: Path) -> None:
    env = rendered / "dev"  # Flux
    assert sorted(p.name for p in (env / "gitops").iterdir()) == [
        "gitrepository-acme-dev.yaml", "kustomization-acme-dev.yaml", "kustomization.yaml", "units"]
    bootstrap = kubectl_kustomize(env / "gitops")
    by_kind = {o["kind"]: o for o in bootstrap}
    assert sorted(by_kind) == ["GitRepository", "Kustomization"] and len(bootstrap) == 2
    assert by_kind["Kustomization"]["spec"]["path"] == "./rendered/dev/gitops/units"
    assert len(kubectl_kustomize(env / "gitops" / "units")) == len(flux_units(env))
    built = []
    for unit in flux_units(env).values():
        objects = kubectl_kustomize(workdir / unit["spec"]["path"])
        assert objects, unit["metadata"]["name"]
        built += [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects]
    assert sorted(built) == applied_objects(env)  # every object once, by exactly one unit


def test_flux_orders_units_as_sync_waves_would(rendered: Path) -> None:
    units = flux_units(rendered / "dev")
    depends = {name: [d["name"] for d in u["spec"].get("dependsOn", [])] for name, u in units.items()}
    for name, needs in depends.items():
        assert set(needs) <= set(units), name
    # Namespaces first; every entry after its namespace.
    assert depends["acme-dev-databases-dev"] == []
    assert depends["acme-dev-databases-dev-orders"] == ["acme-dev-databases-dev"]
    # A database on a catalog cluster waits until the cluster is ready; a vCluster for its database.
    assert depends["acme-dev-databases-dev-reviews"] == ["acme-dev-databases-dev", "acme-dev-databases-dev-catalog"]
    assert depends["acme-dev-vcluster-team-a-team-a"] == ["acme-dev-vcluster-team-a", "acme-dev-databases-dev-team-a-db"]
    # Every unit waits for its objects: what depends on it starts once they are ready.
    assert all(u["spec"]["wait"] for u in units.values())
    # No cycle: every unit can be ordered.
    done: set[str] = set()
    while len(done) < len(depends):
        ready = {n for n, needs in depends.items() if n not in done and set(needs) <= done}
        assert ready, f"a cycle among {sorted(set(depends) - done)}"
        done |= ready


def test_argocd_makes_one_application_per_unit_from_parameter_files(rendered: Path, workdir: Path) -> None:
    env = rendered / "prod"  # Argo CD
    (appset,) = kubectl_kustomize(env / "gitops")
    assert appset["kind"] == "ApplicationSet"
    (generator,) = appset["spec"]["generators"]
    assert generator["git"]["files"] == [{"path": "rendered/prod/gitops/units/*.json"}]
    # Every parameter the template reads is in every file (missingkey=error would stop it).
    template = yaml.safe_dump(appset["spec"]["template"])
    keys = set(re.findall(r"\{\{ \.([A-Za-z.]+) \}\}", template))
    files = sorted((env / "gitops" / "units").glob("*.json"))
    built = []
    for path in files:
        parameters = load(path)
        for key in keys:
            value: Any = parameters
            for step in key.split("."):
                value = value[step]
            assert isinstance(value, str), (path.name, key)
        assert path.name == f"{parameters['name']}.json" and len(parameters["name"]) <= 63
        destination = parameters["destination"]
        assert [bool(destination["name"]), bool(destination["server"])].count(True) == 1  # one of them
        objects = kubectl_kustomize(workdir / parameters["folder"])
        assert {o["metadata"].get("namespace", parameters["namespace"]) for o in objects} <= {parameters["namespace"], "argocd"}
        built += [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects]
    # Every object once, but the namespace's folder that two Kubernetes clusters need (the
    # namespace, and the ServiceAccount of a store with a cloud identity).
    assert sorted(set(built)) == applied_objects(env)
    assert sorted(o for o in set(built) if built.count(o) > 1) == [
        ("Namespace", "", "databases"), ("ServiceAccount", "databases", "backup-store-s3-irsa")]
    spec = appset["spec"]["template"]["spec"]
    assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]
    assert appset["spec"]["template"]["metadata"]["annotations"]["argocd.argoproj.io/compare-options"] == "ServerSideDiff=true"


def test_placement_delivers_each_unit_to_its_kubernetes_cluster(workdir: Path, rendered: Path) -> None:
    events = load(rendered / "prod/gitops/units/acme-prod-analytics-databases-events.json")
    assert events["destination"] == {"name": "analytics-eu-1", "server": ""}
    # Its namespace goes there too; the rest stays where Argo CD runs.
    assert load(rendered / "prod/gitops/units/acme-prod-analytics-databases.json")["folder"] == "rendered/prod/databases"
    assert load(rendered / "prod/gitops/units/acme-prod-databases-orders.json")["destination"] == {
        "name": "", "server": "https://kubernetes.default.svc"}
    overlay = workdir / "overlays" / "prod.yaml"
    overlay.write_text(overlay.read_text().replace("engine: argocd", "engine: flux"))
    result = run("render")
    assert result.exit_code == 0, result.output
    units = flux_units(workdir / "rendered/prod")
    assert units["acme-prod-analytics-databases-events"]["spec"]["kubeConfig"] == {"secretRef": {"name": "analytics-kubeconfig"}}
    assert units["acme-prod-analytics-databases-events"]["spec"]["dependsOn"] == [{"name": "acme-prod-analytics-databases"}]
    assert "kubeConfig" not in units["acme-prod-databases-orders"]["spec"]
    assert units["acme-prod-analytics-databases"]["spec"]["path"] == units["acme-prod-databases"]["spec"]["path"]


ORDERS = "    - name: orders\n      replicas: 1\n"
PLACEMENT_ERRORS = [  # (what the dev overlay says instead: old, new, ...; the error)
    ((ORDERS, ORDERS + "      kubernetesCluster: nowhere\n"),
     "kubernetesCluster: Kubernetes cluster 'nowhere' is not defined; known: analytics [placement]"),
    ((ORDERS, ORDERS + "      kubernetesCluster: analytics\n",
      "  gitops:\n", "  kubernetesClusters:\n    - name: analytics\n      flux: null\n  gitops:\n"),
     "kubernetesClusters[0]: 'analytics' has entries placed on it, and flux needs to know how to reach it: set "
     "flux.kubeConfigSecret [placement]"),
    (("  clusters:\n", "  clusters:\n    - name: sessions\n      namespace: databases-dev-orders\n"),
     "clusters[8]: namespace 'databases-dev-orders' and clusters[5] (databases-dev/orders) would give two GitOps units "
     "one name (<fleet>-<env>-databases-dev-orders); rename one of them [names]"),
    (("  clusters:\n", "  clusters:\n    - name: catalog\n      kubernetesCluster: analytics\n"),
     "it lives on cluster 'catalog', which runs on Kubernetes cluster 'analytics', but the database is placed on the "
     "GitOps engine's own cluster: its Jobs reach the cluster by its Service name, inside one Kubernetes cluster"),
]


@pytest.mark.parametrize(("edit", "error"), PLACEMENT_ERRORS)
def test_placement_that_cannot_work_is_an_input_error(workdir: Path, edit: tuple[str, ...], error: str) -> None:
    dev = workdir / "overlays" / "dev.yaml"
    text = dev.read_text()
    for old, new in zip(edit[::2], edit[1::2]):
        assert old in text
        text = text.replace(old, new, 1)
    dev.write_text(text)
    result = run("render")
    assert result.exit_code == 2
    assert error in result.stderr, result.stderr
    assert not (workdir / "rendered").exists()


def test_a_large_fleet_is_sharded_and_a_unit_keeps_its_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    def render(count: int) -> dict[str, str]:
        (tmp_path / "catalog").mkdir(exist_ok=True)
        entries = "".join(f"    - {{name: db-{i}, on: pg, credentialsSecret: db-{i}, backup: {{method: none}}}}\n"
                          for i in range(count))
        (tmp_path / "catalog" / "fleet.yaml").write_text(
            "apiVersion: dbfleet.dev/v1alpha1\nkind: Catalog\nmetadata: {name: big}\nspec:\n"
            "  servers: [{name: pg, engine: postgresql, host: pg.example.com, adminSecret: pg-admin}]\n"
            "  gitops: {engine: flux, repoURL: 'https://git.example.com/fleet.git'}\n"
            f"  databases:\n{entries}")
        assert run("render").exit_code == 0
        shards = {}
        for shard in (tmp_path / "rendered/default/gitops/units").iterdir():
            if shard.is_dir():
                names = [load(shard / f)["metadata"]["name"] for f in load(shard / "kustomization.yaml")["resources"]]
                assert len(names) <= gitops.SHARD
                shards.update((name, shard.name) for name in names)
        return shards

    before = render(2 * gitops.SHARD + 50)
    assert len(set(before.values())) == 4
    assert len(before) == 2 * gitops.SHARD + 50 + 1  # every database and the namespace, once
    assert len(kubectl_kustomize(tmp_path / "rendered/default/gitops/units")) == 4
    after = render(2 * gitops.SHARD + 51)
    assert {name: shard for name, shard in after.items() if name in before} == before


def test_unit_names_fit_a_label_value_and_stay_apart() -> None:
    short = gitops.unit_name("acme", "prod", None, ("databases", "orders"))
    assert short == "acme-prod-databases-orders"
    long = [gitops.unit_name("a-fleet-with-a-long-name", "production", "eu-west-1", ("namespace-of-the-team", f"x{i}"))
            for i in range(2)]
    assert all(len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) for name in long)
    assert long[0] != long[1]
