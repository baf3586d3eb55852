"""Kafka on Strimzi 1.2 (``kafka.strimzi.io/v1``, KRaft only): Kafka, node pools, topics, users."""
from __future__ import annotations

import hashlib
import re
from typing import Any, Iterator

from renderer.kube import versions
from renderer.planning.components import Component, Fleet, WAVE_CLUSTER, WAVE_DEPENDENT, guaranteed, restart_annotations, tolerations

PLAIN_PORT, TLS_PORT, MTLS_PORT = 9092, 9093, 9094
# Settings that must follow the cluster's size, unless the catalog sets them.
REPLICATED_TOPICS = ("offsets.topic.replication.factor", "transaction.state.log.replication.factor", "default.replication.factor")


def resource_name(topic: str) -> str:
    """A Kubernetes name (a DNS subdomain) for a Kafka topic name, which may hold '_', capitals,
    and dots where a subdomain cannot ("a_.b", "__x"); spec.topicName keeps the real name.  Two
    topics that map to one name are refused as a clash, naming both."""
    segments = (part.strip("-") for part in re.sub(r"[^a-z0-9.-]", "-", topic.lower()).split("."))
    name = ".".join(part for part in segments if part)
    return name or "topic-" + hashlib.sha256(topic.encode()).hexdigest()[:12]


def _acls(user: dict[str, Any]) -> list[dict[str, Any]]:
    acls = []
    for operations, topics in ((["Read", "Describe"], user["read"]), (["Write", "Describe"], user["write"])):
        for topic in topics:
            prefix = topic.endswith("*")
            resource = {"type": "topic", "name": topic.rstrip("*"), "patternType": "prefix" if prefix else "literal"}
            acls.append({"resource": resource, "operations": operations})
    for group in user["groups"]:
        acls.append({"resource": {"type": "group", "name": group, "patternType": "literal"}, "operations": ["Read"]})
    return acls


def pod_template(cluster: dict[str, Any], pool: str) -> dict[str, Any] | None:
    """The catalog's scheduling for a node pool's pods: Strimzi has no nodeSelector, so a node
    affinity says the same; anti-affinity spreads the pool's pods over nodes."""
    scheduling = cluster["scheduling"]
    affinity: dict[str, Any] = {}
    if scheduling["nodeSelector"]:
        terms = [{"key": key, "operator": "In", "values": [value]} for key, value in scheduling["nodeSelector"].items()]
        affinity["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": terms}]}}
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"strimzi.io/pool-name": pool}}}
    if scheduling["antiAffinity"] == "required":
        affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    elif scheduling["antiAffinity"] == "preferred":
        affinity["podAntiAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}
    pod: dict[str, Any] = {}
    if cluster["restartedAt"]:  # a changed pod template: Strimzi rolls the pool's brokers one by one
        pod["metadata"] = {"annotations": restart_annotations(cluster)}
    if affinity:
        pod["affinity"] = affinity
    if tolerations(cluster):
        pod["tolerations"] = tolerations(cluster)
    return pod or None


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    name, namespace = cluster["name"], cluster["namespace"]
    controllers = cluster["kafka"]["controllers"]
    brokers = cluster["replicas"]
    storage = {"type": "persistent-claim", "size": str(cluster["storage"]["size"]), "deleteClaim": False, "kraftMetadata": "shared"}
    if cluster["storage"]["class"]:
        storage["class"] = cluster["storage"]["class"]
    pools = [(f"{name}-dual", brokers, ["controller", "broker"])] if not controllers else [
        (f"{name}-controllers", controllers, ["controller"]),
        (f"{name}-brokers", brokers, ["broker"]),
    ]
    for pool, replicas, roles in pools:
        yield Component(
            "kafka/kafkanodepool.yaml.j2",
            {"namespace": namespace, "cluster": name, "name": pool, "replicas": replicas, "roles": roles, "storage": storage,
             "resources": guaranteed(cluster["resources"]), "pod": pod_template(cluster, pool)},
            "broker" if "broker" in roles else "controller",
            WAVE_CLUSTER,
            holds_data=True,
        )
    replication = min(3, brokers)
    config = {key: replication for key in REPLICATED_TOPICS}
    config["transaction.state.log.min.isr"] = config["min.insync.replicas"] = max(1, replication - 1)
    config.update(cluster["parameters"] or {})
    users = cluster["users"]
    listeners = []
    if not cluster["tls"]["enabled"]:
        listeners.append({"name": "plain", "port": PLAIN_PORT, "type": "internal", "tls": False})
    scram = [u for u in users if u["authentication"] == "scram-sha-512"]
    tls_listener: dict[str, Any] = {"name": "tls", "port": TLS_PORT, "type": "internal", "tls": True}
    if scram:
        tls_listener["authentication"] = {"type": "scram-sha-512"}
    listeners.append(tls_listener)
    if any(u["authentication"] == "tls" for u in users):
        listeners.append({"name": "mtls", "port": MTLS_PORT, "type": "internal", "tls": True, "authentication": {"type": "tls"}})
    build = versions.resolve("kafka", cluster["version"])
    yield Component(
        "kafka/kafka.yaml.j2",
        {
            "namespace": namespace,
            "name": name,
            "version": build.version,
            "metadata_version": cluster["kafka"]["metadataVersion"] or build.metadata,
            "listeners": listeners,
            "authorization": bool(users),
            "config": config,
            "metrics": cluster["monitoring"]["enabled"],
        },
        "database",
        WAVE_CLUSTER,
        holds_data=True,
    )
    for topic in cluster["topics"]:
        metadata_name = resource_name(topic["name"])
        yield Component(
            "kafka/kafkatopic.yaml.j2",
            {
                "namespace": namespace,
                "cluster": name,
                "name": metadata_name,
                "topic_name": topic["name"] if metadata_name != topic["name"] else None,
                "partitions": topic["partitions"],
                "replicas": topic["replicas"] or replication,
                "config": topic["config"],
            },
            "topic",
            WAVE_DEPENDENT,
        )
    for user in users:
        yield Component(
            "kafka/kafkauser.yaml.j2",
            {"namespace": namespace, "cluster": name, "name": user["name"], "authentication": user["authentication"], "acls": _acls(user)},
            "user",
            WAVE_DEPENDENT,
        )
    if cluster["monitoring"]["enabled"]:
        yield Component("kafka/podmonitor.yaml.j2", {"namespace": namespace, "cluster": name}, "monitoring", WAVE_DEPENDENT)
