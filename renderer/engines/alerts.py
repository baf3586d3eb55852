"""Alerts when backups stop: one PrometheusRule per entry, on what each backup path measures.

- CloudNativePG with the barman-cloud plugin: ``barman_cloud_cloudnative_pg_io_last_available_backup_timestamp``,
  which the plugin exports through the instance manager's metrics (the in-core
  ``cnpg_collector_last_available_backup_timestamp`` reads 0 once backups go through a plugin);
- dump CronJobs, and restore drills: kube-state-metrics' ``kube_cronjob_status_last_successful_time``;
- Litestream (0.5.17 exports no time of its last upload): sync errors that keep coming,
  replication paused by a full disk, or its metrics gone.
The Percona operators export no backup metric, nor does PMM: their backups get no rule.
"""
from __future__ import annotations

import json
from typing import Any

from renderer.kube import cron
from renderer.planning.components import Component, WAVE_DEPENDENT

# A backup may be late by half its schedule's period before the alert fires.
GRACE = 1.5
FOR = "15m"  # how long a condition must hold: a scrape missed or a restart is no alert


def _selector(**labels: str) -> str:
    """PromQL label matchers; a value ending in ``~`` is a regular expression.  Values are JSON
    strings, which PromQL reads as Go strings: no catalog value can end one."""
    matchers = [f"{k}=~{json.dumps(v[:-1])}" if v.endswith("~") else f"{k}={json.dumps(v)}" for k, v in labels.items()]
    return "{" + ", ".join(matchers) + "}"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _rule(alert: str, expr: str, hold: str, entry: str, namespace: str, summary: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": hold,
            "labels": {"severity": "warning", "namespace": namespace, "dbfleet_entry": entry},
            "annotations": {"summary": summary}}


def _component(namespace: str, entry: str, rules: list[dict[str, Any]]) -> Component:
    return Component("common/prometheusrule.yaml.j2",
                     {"namespace": namespace, "name": f"{entry}-backups", "group": f"{namespace}/{entry} backups",
                      "rules": rules}, "monitoring", WAVE_DEPENDENT)


def _timestamp_rules(metric: str, selector: str, schedule: str, entry: str, namespace: str, what: str,
                     kind: str = "Backup") -> list[dict[str, Any]]:
    """The newest success is older than the schedule allows; or nothing measures one."""
    limit = int(cron.longest_gap(schedule) * GRACE)
    return [
        _rule(f"Dbfleet{kind}TooOld", f"time() - max({metric}{selector}) > {limit}", FOR, entry, namespace,
              f"The last {what} of {namespace}/{entry} is older than {_duration(limit)} (its schedule, {schedule!r}, "
              f"with a grace of {GRACE}x)."),
        _rule(f"Dbfleet{kind}Unmeasured", f"absent({metric}{selector})", _duration(limit), entry, namespace,
              f"No successful {what} of {namespace}/{entry} has been measured for {_duration(limit)}."),
    ]


def postgresql(cluster: dict[str, Any], schedule: str, drill: tuple[str, str] | None = None) -> Component:
    """Base backups; and with ``drill`` (its CronJob's name and schedule), the restore drill."""
    name, namespace = cluster["name"], cluster["namespace"]
    # CloudNativePG names instance pods <cluster>-<serial>.
    selector = _selector(namespace=namespace, pod=f"{name}-[0-9]+~")
    rules = _timestamp_rules("barman_cloud_cloudnative_pg_io_last_available_backup_timestamp", selector, schedule, name,
                             namespace, "base backup")
    if drill:
        rules += _cronjob_rules(namespace, name, drill[0], drill[1], "RestoreDrill", "restore drill")
    return _component(namespace, name, rules)


def _cronjob_rules(namespace: str, entry: str, cronjob: str, schedule: str, kind: str, what: str) -> list[dict[str, Any]]:
    return _timestamp_rules("kube_cronjob_status_last_successful_time", _selector(namespace=namespace, cronjob=cronjob),
                            schedule, entry, namespace, what, kind)


def dumps(namespace: str, database: str, cronjobs: list[tuple[str, str, str, str]]) -> Component:
    """``cronjobs``: (name, schedule, kind of alert, what it does) of each CronJob to watch: the
    dumps, and the restore drill (its Job succeeds only when the restored data passed the check)."""
    return _component(namespace, database, [rule for cronjob, schedule, kind, what in cronjobs
                                            for rule in _cronjob_rules(namespace, database, cronjob, schedule, kind, what)])


def litestream(namespace: str, entry: str, pods: str, database: str, drill: tuple[str, str] | None = None) -> Component:
    """``pods``: a regular expression of the writer's pod names; ``database``: its path (Litestream's
    db label); ``drill``: the restore drill's CronJob and schedule."""
    selector = _selector(namespace=namespace, pod=f"{pods}~", db=database)
    drilled = _cronjob_rules(namespace, entry, drill[0], drill[1], "RestoreDrill", "restore drill") if drill else []
    return _component(namespace, entry, [
        _rule("DbfleetReplicationFailing", f"increase(litestream_sync_error_count{selector}[{FOR}]) > 0", FOR, entry,
              namespace, f"Litestream keeps failing to replicate {namespace}/{entry}."),
        _rule("DbfleetReplicationPaused", f"max(litestream_disk_full{selector}) > 0", FOR, entry, namespace,
              f"Litestream paused replicating {namespace}/{entry}: the pod's disk is full."),
        _rule("DbfleetBackupUnmeasured", f"absent(litestream_db_size{selector})", FOR, entry, namespace,
              f"Litestream of {namespace}/{entry} exports no metrics: it is not replicating."),
        *drilled,
    ])
