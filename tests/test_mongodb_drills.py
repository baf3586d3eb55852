"""MongoDB's restore drills, as the example catalog renders them: a dump drill and a PBM drill.
No MongoDB server is installable here: their scripts are checked with sh -n, bash -n and
node --check (tests/test_databases.py, every rendered script), and these tests check what the
scripts are given."""
from __future__ import annotations

import json
from typing import Any

import yaml

from tests.conftest import GOLDEN


def _read(path: str) -> Any:
    return yaml.safe_load((GOLDEN / path).read_text())


def _container(cronjob: dict[str, Any], name: str = "drill") -> dict[str, Any]:
    spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == name)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_a_dump_drill_counts_documents_with_a_filter_it_reads_as_data() -> None:
    """The check reaches mongosh as environment values (the filter as Extended JSON, in the
    catalog's order), never as script text; the scratch database is the owner's only while lent."""
    cronjob = _read("prod/databases/reviews/cronjob-reviews-drill.yaml")
    env = _env(_container(cronjob))
    assert json.loads(env["DRILL_FILTER"]) == {"rating": {"$gte": 1}}
    assert (env["DRILL_COLLECTION"], env["DRILL_AT_LEAST"], env["DRILL_DATABASE"]) == ("reviews", "1", "_drill_reviews")
    assert env["DB_ADMIN_USER"] == {"secretKeyRef": {"name": "catalog-secrets", "key": "MONGODB_USER_ADMIN_USER"}}
    scripts = _read("prod/databases/reviews/configmap-reviews-scripts.yaml")["data"]
    assert "rating" not in scripts["drill.js"] + scripts["drill.sh"]
    assert not any(key.endswith(".sql") for key in scripts)
    steps = scripts["drill.sh"]
    # Lent, emptied, restored into, checked; emptied and taken back on the way out, whatever happened.
    assert steps.index("step lend") < steps.index("step clear\n") < steps.index("mongorestore") < steps.index("step check")
    assert "trap cleanup EXIT" in steps and "step take-back" in steps
    assert '--nsFrom="$DB_NAME.*" --nsTo="$DRILL_DATABASE.*"' in steps


def test_a_pbm_drill_restores_the_clusters_own_store_into_one_member() -> None:
    """PBM's configuration in the drill names the very folder the cluster's backups go to, and no
    keys: those come from the store's Secret, as the cluster's agents get them; pbm and pbm-agent
    come from the cluster's PBM image, mongod from its own image."""
    cluster = _read("prod/databases/profiles/perconaservermongodb-profiles.yaml")
    cronjob = _read("prod/databases/profiles/cronjob-profiles-drill.yaml")
    files = _read("prod/databases/profiles/configmap-profiles-drill.yaml")["data"]
    storage = cluster["spec"]["backup"]["storages"]["s3-main"]["s3"]
    secret = storage.pop("credentialsSecret")
    assert yaml.safe_load(files["pbm-config.yaml"]) == {"storage": {"type": "s3", "s3": storage}}
    lend = _container(cronjob, "pbm")
    assert lend["image"] == cluster["spec"]["backup"]["image"]
    assert lend["command"] == ["cp", "/usr/bin/pbm", "/usr/bin/pbm-agent", "/var/lib/drill"]
    drill = _container(cronjob)
    assert drill["image"] == cluster["spec"]["image"]
    env = _env(drill)
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": secret, "key": "AWS_ACCESS_KEY_ID"}}
    assert (env["REPLSET"], env["DB_NAME"], env["DRILL_COLLECTION"]) == (cluster["spec"]["replsets"][0]["name"], "profiles", "users")
    assert json.loads(env["DRILL_FILTER"]) == {"active": True}
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsUser"] == 1001
    assert "--bind_ip 127.0.0.1" in files["drill.sh"] and "drill-check.sql" not in files
    rule = _read("prod/databases/profiles/prometheusrule-profiles-backups.yaml")
    assert [r["alert"] for r in rule["spec"]["groups"][0]["rules"]] == ["DbfleetRestoreDrillTooOld", "DbfleetRestoreDrillUnmeasured"]
