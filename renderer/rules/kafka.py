"""Kafka: what Strimzi would refuse, and what a Kafka entry cannot ask for."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.catalog.nodes import PList, PMap
from renderer.catalog.schema import KAFKA_NAME_RE
from renderer.errors import Problem
from renderer.rules._walk import ONE_LINE, clusters, config_parameters, located, needs_storage_size, not_for, pinned_version

ID = "kafka"
TOPIC = re.compile(KAFKA_NAME_RE + r"\Z")  # others the catalog's schema reports
# Kafka's configuration names; Strimzi escapes values (OrderedProperties), but a line break or a
# control character is never a setting's value: the broker would refuse it at start-up.
CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")

NOT_FOR_KAFKA = {
    "backup": "Strimzi has no backups: Kafka keeps data by replication (mirror it to another cluster with MirrorMaker 2)",
    "restore": "Strimzi cannot restore a Kafka cluster from a backup store: Kafka keeps data by replication",
    "pooler": "Kafka has no pooler",
    "databases": "Kafka has topics and users, not databases",
    "proxy": "xdatabase-proxy does not route Kafka",
}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "kafka"):
        yield from needs_storage_size(where, cluster, "Strimzi")
        yield from pinned_version(where, cluster, "kafka")
        yield from not_for(where, cluster, NOT_FOR_KAFKA)
        yield from config_parameters(where, cluster, ("parameters",), CONFIG_NAME, ONE_LINE, "Kafka's configuration",
                                     "line breaks or control characters")
        for i, topic in enumerate(cluster.get("topics") or []):
            yield from config_parameters(f"{where}.topics[{i}]", topic, ("config",), CONFIG_NAME, ONE_LINE,
                                         "a topic's configuration", "line breaks or control characters")
        controllers, mark = located(cluster, "kafka", "controllers")
        if isinstance(controllers, int) and controllers % 2 == 0:
            yield Problem(mark, f"{where}.kafka.controllers: a KRaft quorum needs an odd number of controllers")
        replicas = cluster.get("replicas", 1)
        topics = cluster.get("topics") or PList(cluster.mark)
        topic_names = set()
        for i, topic in enumerate(topics):
            name, mark = located(topic, "name")
            topic_names.add(name)
            count, mark = located(topic, "replicas")
            if isinstance(count, int) and isinstance(replicas, int) and count > replicas:
                yield Problem(mark, f"{where}.topics[{i}].replicas: {count} replicas need at least {count} brokers; the cluster has {replicas}")
        for i, user in enumerate(cluster.get("users") or []):
            for access in ("read", "write"):
                for j, wanted in enumerate(user.get(access) or []):
                    if not wanted.endswith("*") and wanted not in topic_names and TOPIC.match(wanted):
                        _, mark = located(user, access)
                        yield Problem(mark, f"{where}.users[{i}].{access}[{j}]: topic {wanted!r} is not among the cluster's topics (end a prefix with '*')")
