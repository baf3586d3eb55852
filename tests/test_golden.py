"""The example catalog's output: snapshots in golden/, valid, readable, buildable."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from renderer.rendering.render import Bundle
from renderer.validate import Validators
from tests.conftest import GOLDEN, ROOT, run, tree

# Objects that hold data, or credentials, must never be pruned or deleted by a sync.
DATA_KINDS = {"Cluster", "PerconaXtraDBCluster", "PerconaServerMongoDB", "Kafka", "KafkaNodePool", "Namespace", "ExternalSecret",
              "PersistentVolumeClaim"}


def test_golden_files(example_bundle: Bundle, golden: Any) -> None:
    """Every rendered file equals its snapshot in golden/ (update with --snapshot-update)."""
    for path, data in sorted(example_bundle.files.items()):
        assert data == golden(name=path), path


def test_golden_has_no_stale_files(example_bundle: Bundle) -> None:
    assert sorted(tree(GOLDEN)) == sorted(example_bundle.files)


def test_every_golden_object_validates_strictly() -> None:
    validators = Validators()
    from renderer.rendering.render import RenderedObject

    objects = [
        RenderedObject(path, yaml.safe_load(data))
        for path, data in tree(GOLDEN).items()
        if not path.endswith(("kustomization.yaml", ".json"))  # the ApplicationSet's parameter files are no objects
    ]
    kinds = {o.data["kind"] for o in objects}
    assert {"Cluster", "Pooler", "ObjectStore", "ScheduledBackup", "Database", "PodMonitor", "Service",
            "Namespace", "Application", "ApplicationSet", "ExternalSecret", "PerconaXtraDBCluster", "PerconaXtraDBClusterRestore",
            "PerconaServerMongoDB", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "StatefulSet",
            "PersistentVolumeClaim", "ConfigMap", "Ingress", "Job", "CronJob", "EndpointSlice", "HelmRelease",
            "HelmRepository", "Deployment", "ClusterRole", "Role", "PodDisruptionBudget"} <= kinds
    assert validators.validate(objects) == []


def test_golden_reads_back_exactly_as_rendered(example_bundle: Bundle) -> None:
    """PyYAML (YAML 1.1, like Go readers) reads each file as the data the renderer meant."""
    for obj in example_bundle.objects:
        assert yaml.safe_load(example_bundle.files[obj.path]) == obj.data, obj.path


def test_example_renders_as_golden_through_the_cli(workdir: Path) -> None:
    result = run("render")
    assert result.exit_code == 0, result.output
    written = tree(workdir / "rendered")
    del written[".dbfleet-manifest.json"]
    assert written == tree(ROOT / "golden")


def test_every_object_is_labelled_and_data_is_protected(example_bundle: Bundle) -> None:
    waves: dict[str, set[int]] = {}
    for obj in example_bundle.objects:
        metadata = obj.data["metadata"]
        labels, annotations = metadata["labels"], metadata["annotations"]
        assert labels["app.kubernetes.io/managed-by"] == "dbfleet"
        assert labels["app.kubernetes.io/part-of"] == "acme"
        assert {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"} <= set(labels)
        holds_data = obj.data["kind"] in DATA_KINDS
        protected = annotations.get("argocd.argoproj.io/sync-options") == "Prune=false,Delete=false"
        assert protected is holds_data, obj.path
        if holds_data:
            assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
            assert annotations["helm.sh/resource-policy"] == "keep"
        waves.setdefault(obj.data["kind"], set()).add(int(annotations["argocd.argoproj.io/sync-wave"]))
    # Namespaces, then object stores and secrets, then clusters, then what uses a cluster.
    assert max(waves["Namespace"]) < min(waves["ObjectStore"] | waves["ExternalSecret"])
    assert max(waves["ObjectStore"] | waves["ExternalSecret"]) < min(waves["Cluster"])
    assert max(waves["Cluster"]) < min(waves["Pooler"] | waves["Database"] | waves["ScheduledBackup"] | waves["Service"])


def test_a_rotated_role_password_reaches_cloudnative_pg_at_once(example_bundle: Bundle) -> None:
    """CloudNativePG reloads only Secrets labelled cnpg.io/reload: each ExternalSecret that makes
    a managed role's Secret labels it."""
    objects = [yaml.safe_load(example_bundle.files[o.path]) for o in example_bundle.objects]
    made = {(o["metadata"]["namespace"], o["spec"]["target"]["name"]): o for o in objects if o["kind"] == "ExternalSecret"}
    checked = 0
    for cluster in (o for o in objects if o["kind"] == "Cluster"):
        for role in (cluster["spec"].get("managed") or {}).get("roles") or []:
            secret = made[(cluster["metadata"]["namespace"], role["passwordSecret"]["name"])]
            assert secret["spec"]["target"]["template"]["metadata"]["labels"] == {"cnpg.io/reload": "true"}
            checked += 1
    assert checked >= 4


def _pod_specs(node: Any) -> Any:
    if isinstance(node, dict):
        if "containers" in node and "securityContext" in node:
            yield node
        for value in node.values():
            yield from _pod_specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pod_specs(value)


def test_a_non_root_pod_can_read_the_secret_files_it_mounts(example_bundle: Bundle) -> None:
    """A Secret file without a read bit for others (a client key, 0400) is readable by a non-root
    user only through fsGroup."""
    checked = 0
    for obj in example_bundle.objects:
        for pod in _pod_specs(yaml.safe_load(example_bundle.files[obj.path])):
            secrets = [v["secret"] for v in pod.get("volumes") or [] if "secret" in v]
            if pod["securityContext"].get("runAsNonRoot") and any(not s.get("defaultMode", 0o644) & 0o004 for s in secrets):
                assert pod["securityContext"].get("fsGroup") == pod["securityContext"]["runAsUser"], obj.path
                checked += 1
    assert checked >= 2
