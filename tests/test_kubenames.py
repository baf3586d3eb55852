"""Names the cluster and the operators accept: refused at the catalog line, never after the sync."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderer.engines.kafka import resource_name
from renderer.kube import kubenames
from tests.conftest import run

TOO_LONG = Path(__file__).parent / "bad" / "names-too-long"


def test_every_name_at_its_limit_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/bad/names-too-long has each name one character over its limit: one less renders.
    shutil.copytree(TOO_LONG / "catalog", tmp_path / "catalog")
    source = tmp_path / "catalog" / "fleet.yaml"
    source.write_text(re.sub("x(x+)", r"\1", source.read_text()))
    monkeypatch.chdir(tmp_path)
    result = run("render")
    assert result.exit_code == 0, result.stderr
    names = {path.name for path in (tmp_path / "rendered").rglob("*.yaml")}
    assert "perconaxtradbcluster-my-xxxxxxxxxxxxxxxxxxx.yaml" in names  # 22 characters, the operator's most
    assert run("render", "--check").exit_code == 0


def _obj(kind: str, name: str, api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "db", **extra}}


@pytest.mark.parametrize(("obj", "expected"), [
    (_obj("ConfigMap", "a" * 253), []),
    (_obj("ConfigMap", "a" * 254), [("metadata.name", "is not a DNS-1123 subdomain", 1)]),
    (_obj("ConfigMap", "Upper"), [("metadata.name", "is not a DNS-1123 subdomain", 0)]),
    (_obj("Service", "1st"), [("metadata.name", "is not a DNS-1035 label", 0)]),
    (_obj("Service", "a.b"), [("metadata.name", "is not a DNS-1035 label", 0)]),
    (_obj("CronJob", "a" * 53, "batch/v1"), [("metadata.name", "at most 52 characters", 1)]),
    (_obj("Cluster", "a" * 51, "postgresql.cnpg.io/v1"), [("metadata.name", "CloudNativePG's rule", 1)]),
    (_obj("PerconaServerMongoDB", "a" * 45, "psmdb.percona.com/v1") | {"spec": {"replsets": [{"name": "rs-long"}]}},
     [("metadata.name", "with replica set 'rs-long'", 2)]),
    (_obj("KafkaNodePool", "b", "kafka.strimzi.io/v1", labels={"strimzi.io/cluster": "k" * 59}),
     [("the host name Strimzi gives its pods", "is not a DNS-1123 label", 1)]),
    (_obj("ConfigMap", "x", labels={"app": "v" * 64}), [("metadata.labels.app", "is not a label value", 1)]),
    (_obj("ConfigMap", "x", labels={"app": "-v"}), [("metadata.labels.app", "is not a label value", 0)]),
    (_obj("ConfigMap", "x", labels={"example.com/" + "k" * 64: "v"}), [("metadata.labels.example.com/" + "k" * 64, "is not a key", 0)]),
    (_obj("ConfigMap", "x", annotations={"Bad_Prefix/key": "v"}), [("metadata.annotations.Bad_Prefix/key", "is not a key", 0)]),
    (_obj("ConfigMap", "x", namespace="Db"), [("metadata.namespace", "is not a DNS-1123 label", 0)]),
])
def test_names_the_cluster_refuses(obj: dict[str, Any], expected: list[tuple[str, str, int]]) -> None:
    found = kubenames.problems(obj)
    assert [(p.field, p.excess) for p in found] == [(field, excess) for field, _, excess in expected]
    for problem, (_, reason, _) in zip(found, expected):
        assert reason in problem.reason


def test_file_names_fit_the_file_system() -> None:
    long = "t" * 249  # the longest Kafka topic name
    first, second = kubenames.file_name("KafkaTopic", long), kubenames.file_name("KafkaTopic", long[:-1] + "u")
    assert len(first.encode()) == len(second.encode()) == kubenames.MAX_FILE_NAME
    assert first != second and first.startswith("kafkatopic-ttt") and first.endswith(".yaml")
    assert kubenames.file_name("Service", "orders") == "service-orders.yaml"


@pytest.mark.parametrize(("topic", "name"), [
    ("orders.created", "orders.created"), ("orders_audit", "orders-audit"), ("Orders..Audit", "orders.audit"),
    ("a_.b", "a.b"), ("-a-", "a"), ("__", "topic-9911f4d2b184"),
])
def test_every_topic_gets_a_kubernetes_name(topic: str, name: str) -> None:
    assert resource_name(topic) == name
    assert kubenames.SUBDOMAIN.fits(name)


def test_a_topic_of_the_longest_name_renders(workdir: Path) -> None:
    kafka = workdir / "catalog" / "kafka.yaml"
    topic = "Orders_" + "x" * 242
    kafka.write_text(kafka.read_text().replace("orders_audit", topic))
    result = run("render")
    assert result.exit_code == 0, result.stderr
    [path] = (workdir / "rendered" / "prod").rglob("kafkatopic-orders-xxx*.yaml")
    assert len(path.name) == kubenames.MAX_FILE_NAME
    assert yaml.safe_load(path.read_text())["spec"]["topicName"] == topic
