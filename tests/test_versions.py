"""The versions each pinned operator release runs: release lines, upstream versions and exact tags
resolve to a build; anything else is refused; dbfleet versions prints the table."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from renderer.kube.versions import ENGINES
from tests.conftest import ROOT, run, tree


@pytest.mark.parametrize(("engine", "written", "tag"), [
    ("postgresql", "17", "17.10-system-trixie"), ("postgresql", "17.9", "17.9-system-trixie"),
    ("postgresql", "16.14-system-trixie", "16.14-system-trixie"), ("postgresql", "14", "14.23-system-trixie"),
    ("postgresql", "16.4", "16.4-system-trixie"),  # any minor of a major CloudNativePG 1.30 supports, in the same family
    ("mysql", "8.0", "8.0.45-36.1"), ("mysql", "8.4", "8.4.8-8.1"), ("mysql", "8.0.45", "8.0.45-36.1"),
    ("mongodb", "8.0.19", "8.0.19-7"), ("mongodb", "7.0", "7.0.30-16"), ("mongodb", "6.0.27-21", "6.0.27-21"),
    ("kafka", "4.3", "1.2.0-kafka-4.3.1"), ("kafka", "4.2.0", "1.2.0-kafka-4.2.0"),
])
def test_a_version_resolves_to_a_build(engine: str, written: str, tag: str) -> None:
    build = ENGINES[engine].resolve(written)
    assert build is not None and build.tag == tag


@pytest.mark.parametrize(("engine", "written"), [
    ("postgresql", "13.4"), ("postgresql", "13"), ("postgresql", "16.4.1"), ("postgresql", "latest"), ("postgresql", "19"), ("postgresql", "17.10-bookworm"),
    ("mysql", "8.0.42-33.1"), ("mysql", "5.6"), ("mysql", "8"), ("mongodb", "8.0.12-4"), ("mongodb", "5.0"),
    ("kafka", "4.1.1"), ("kafka", "3.9.0"), ("kafka", "4"),
])
def test_a_version_the_operator_does_not_run_is_refused(engine: str, written: str) -> None:
    assert ENGINES[engine].resolve(written) is None


def test_kafka_builds_carry_their_metadata_version() -> None:
    assert {b.version: b.metadata for b in ENGINES["kafka"].builds} == {
        "4.3.1": "4.3-IV0", "4.3.0": "4.3-IV0", "4.2.1": "4.2-IV1", "4.2.0": "4.2-IV1"}
    assert ENGINES["postgresql"].lines == ["18", "17", "16", "15", "14"]


def test_versions_prints_the_table() -> None:
    text = run("versions")
    assert text.exit_code == 0
    assert "  17    -> ghcr.io/cloudnative-pg/postgresql:17.10-system-trixie   (also 17.9-system-trixie)\n" in text.stdout
    assert "  4.3   -> quay.io/strimzi/kafka:1.2.0-kafka-4.3.1   (also 1.2.0-kafka-4.3.0)\n" in text.stdout
    data = json.loads(run("versions", "--output", "json").stdout)
    assert [e["engine"] for e in data["engines"]] == ["postgresql", "mysql", "mongodb", "kafka"]
    assert data["helpers"]["psmdb-backup"]["image"] == "percona/percona-backup-mongodb:2.12.0"


def test_the_example_catalog_writes_release_lines() -> None:
    written = re.findall(r'version: "([^"]+)"', "".join(p.read_text() for p in (ROOT / "catalog").glob("*.yaml")))
    assert written and all(re.fullmatch(r"[0-9]+(\.[0-9]+)?", v) for v in written), written


def test_lines_render_the_pinned_images_and_helpers() -> None:
    files = tree(ROOT / "golden")
    cluster = yaml.safe_load(files["prod/databases/orders/cluster-orders.yaml"])
    assert cluster["spec"]["imageName"] == "ghcr.io/cloudnative-pg/postgresql:16.14-system-trixie"
    pxc = yaml.safe_load(files["prod/databases/shop/perconaxtradbcluster-shop.yaml"])["spec"]
    assert (pxc["pxc"]["image"], pxc["haproxy"]["image"], pxc["backup"]["image"]) == (
        "percona/percona-xtradb-cluster:8.0.45-36.1", "percona/haproxy:2.8.18-1", "percona/percona-xtrabackup:8.0.35-35.1")
    kafka = yaml.safe_load(files["prod/databases/events/kafka-events.yaml"])["spec"]["kafka"]
    assert (kafka["version"], kafka["metadataVersion"]) == ("4.3.1", "4.3-IV0")
    psmdb = yaml.safe_load(files["prod/databases/catalog/perconaservermongodb-catalog.yaml"])["spec"]
    assert (psmdb["image"], psmdb["backup"]["image"]) == ("percona/percona-server-mongodb:8.0.19-7",
                                                          "percona/percona-backup-mongodb:2.12.0")
