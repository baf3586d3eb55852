"""Rules over catalog entries: what changing a field of an entry does to the running database.

Each rule is a generator of findings over one entry that exists at both revisions (``EntryDiff``),
after normalisation (every schema default present).  Evidence names what the operator does and
where that is written, at the pinned releases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from renderer.change.findings import Finding, Level
from renderer.kube import versions
from renderer.kube.cron import retention_days
from renderer.kube.quantities import amount

SAFE, DISRUPTIVE, DESTRUCTIVE = Level.SAFE, Level.DISRUPTIVE, Level.DESTRUCTIVE

CNPG_WEBHOOK = "cloudnative-pg v1.30.0 internal/webhook/v1/cluster_webhook.go"
CNPG_UPGRADES = "cloudnative-pg v1.30.0 docs/src/postgres_upgrades.md"
PVC_IMMUTABLE = ("Kubernetes: a bound PersistentVolumeClaim's spec is immutable except resources.requests "
                 "(which can only grow), and StatefulSet volumeClaimTemplates cannot change")


@dataclass(frozen=True)
class EntryDiff:
    section: str  # clusters | databases | vclusters
    name: str
    old: dict[str, Any]
    new: dict[str, Any]
    old_stores: dict[str, dict[str, Any]]
    new_stores: dict[str, dict[str, Any]]

    @property
    def engine(self) -> str:
        return str(self.new.get("engine") or "")

    def changed(self, *path: str) -> bool:
        return _at(self.old, path) != _at(self.new, path)

    def values(self, *path: str) -> tuple[Any, Any]:
        return _at(self.old, path), _at(self.new, path)


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


Rule = Callable[[EntryDiff], Iterator[Finding]]


def engine_changed(d: EntryDiff) -> Iterator[Finding]:
    if d.section == "clusters" and d.changed("engine"):
        old, new = d.values("engine")
        yield Finding(DESTRUCTIVE, "engine-changed", f"engine {old} -> {new}",
                      "a different operator makes a new, empty cluster under the name; the old one's data is not "
                      "migrated, and its objects are left unmanaged", ("engine",))


def moved(d: EntryDiff) -> Iterator[Finding]:
    for key, what in (("namespace", "namespace"), ("kubernetesCluster", "Kubernetes cluster"), ("on", "server")):
        if key in d.new and d.changed(key):
            old, new = d.values(key)
            yield Finding(DESTRUCTIVE, "moved", f"{what} {old or '(the GitOps cluster)'} -> {new or '(the GitOps cluster)'}",
                          f"a new, empty {d.section[:-1]} is made in the new {what}; the data stays where it was, no "
                          "longer managed or backed up by dbfleet (nothing is copied)", (key,))


def storage(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters":
        return
    (old_size, new_size), path = d.values("storage", "size"), ("storage", "size")
    before, after = amount(old_size), amount(new_size)
    if before is not None and after is not None and before != after:
        if after < before:
            yield Finding(DESTRUCTIVE, "storage-shrunk", f"storage {old_size} -> {new_size}",
                          f"volumes cannot shrink: CloudNativePG refuses (\"can't shrink existing storage\", "
                          f"{CNPG_WEBHOOK}); {PVC_IMMUTABLE}", path)
        else:
            online = {
                "postgresql": "CloudNativePG expands the PVCs in place (spec.storage.resizeInUseVolumes, default true)",
                "mysql": "the PXC operator expands the PVCs (spec.enableVolumeExpansion, which dbfleet sets)",
                "mongodb": "the PSMDB operator expands the PVCs (spec.enableVolumeExpansion, which dbfleet sets)",
                "kafka": "Strimzi expands persistent-claim volumes in place",
                "sqlite": "the PersistentVolumeClaim's request grows in place",
            }.get(d.engine, "the volumes grow in place")
            yield Finding(SAFE, "storage-grown", f"storage {old_size} -> {new_size}",
                          f"{online}, when the StorageClass has allowVolumeExpansion: true (not visible offline: "
                          "check it before merging)", path)
    for key, what in (("class", "storage class"), ("accessMode", "access mode")):
        if d.changed("storage", key):
            old, new = d.values("storage", key)
            yield Finding(DESTRUCTIVE, "storage-class-changed" if key == "class" else "storage-access-mode-changed",
                          f"{what} {old or '(default)'} -> {new or '(default)'}",
                          f"{PVC_IMMUTABLE}: existing volumes keep the old {what}, and the operator fails or makes "
                          "new, empty volumes for it", ("storage", key))


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", text.split("-")[0]))


def _version(engine: str, written: Any) -> tuple[int, ...]:
    table = versions.ENGINES.get(engine)
    build = table.resolve(str(written)) if table else None
    return _numbers(build.version if build else str(written))


# How many parts make a major, and what the operator allows between majors.
MAJOR_PARTS = {"postgresql": 1, "mysql": 2, "mongodb": 2, "kafka": 1}
MAJORS = {  # the release lines in upgrade order, where the operator upgrades one step at a time
    "mysql": ((5, 7), (8, 0), (8, 4)),
    "mongodb": ((6, 0), (7, 0), (8, 0)),
}
STEP_EVIDENCE = {
    "mysql": "MySQL upgrades one release line at a time (5.7 -> 8.0 -> 8.4: dev.mysql.com/doc/refman/8.4/en/"
             "upgrade-paths.html); the PXC operator 1.20 only swaps the image",
    "mongodb": "MongoDB upgrades one major at a time, each after setting featureCompatibilityVersion (Percona "
               "Operator for MongoDB 1.22 docs, \"Upgrade Percona Server for MongoDB\"); mongod refuses data files "
               "two majors old",
}
DOWNGRADE_EVIDENCE = {
    "postgresql": f"CloudNativePG refuses: \"can't downgrade from major\" ({CNPG_WEBHOOK}, validateImageChange)",
    "mysql": "MySQL does not support downgrades, not even within 8.0 (dev.mysql.com/doc/refman/8.0/en/"
             "downgrading.html): the new server refuses the data directory",
    "mongodb": "a MongoDB downgrade needs featureCompatibilityVersion lowered first, which the operator does not do: "
               "the old mongod refuses the data files",
    "kafka": "Strimzi downgrades only to a version that supports the cluster's KRaft metadata version, which an "
             "upgrade raises (Strimzi docs, \"Downgrading Kafka\")",
}


def version(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters" or not d.changed("version") or d.engine not in MAJOR_PARTS:
        return
    old_written, new_written = d.values("version")
    old, new = _version(d.engine, old_written), _version(d.engine, new_written)
    if not old or not new or old == new:
        return
    parts = MAJOR_PARTS[d.engine]
    old_major, new_major = old[:parts], new[:parts]
    summary = f"version {old_written} -> {new_written}"
    path = ("version",)
    if new < old:
        level = DESTRUCTIVE if new_major < old_major or d.engine == "mysql" else DISRUPTIVE
        evidence = DOWNGRADE_EVIDENCE[d.engine] if level is DESTRUCTIVE else "a minor downgrade: pods roll to the older image"
        yield Finding(level, "version-downgrade", summary, evidence, path)
        return
    if new_major == old_major:
        yield Finding(DISRUPTIVE, "version-minor", summary, "a rolling update of every instance to the new image "
                      "(the primary last: a switchover)" if d.engine == "postgresql" else
                      "a rolling update of every instance to the new image", path)
        return
    lines = MAJORS.get(d.engine)
    if lines and old_major in lines and new_major in lines and lines.index(new_major) - lines.index(old_major) > 1:
        yield Finding(DESTRUCTIVE, "version-skips-major", summary, STEP_EVIDENCE[d.engine], path)
        return
    if d.engine == "postgresql":
        if new_major[0] < 16:
            yield Finding(DESTRUCTIVE, "version-major", summary, "CloudNativePG refuses: \"major upgrades are only "
                          f"supported to version 16 or higher\" ({CNPG_WEBHOOK}, validateImageChange)", path)
            return
        yield Finding(DISRUPTIVE, "version-major", summary, "an offline in-place major upgrade: CloudNativePG stops "
                      f"the cluster and runs pg_upgrade in a Job ({CNPG_UPGRADES}); take a backup first", path)
        if d.new["backup"]["method"] == "native" and not d.changed("backup", "serverName"):
            yield Finding(DESTRUCTIVE, "archive-across-majors", "backup.serverName unchanged across a major upgrade",
                          "pg_upgrade makes a new system ID and restarts at timeline 1, whose WAL overwrites the old "
                          "timeline-1 files in the same archive; the barman-cloud plugin does not separate them: change "
                          f"serverName with the upgrade ({CNPG_UPGRADES}, \"Backup and WAL Archive Considerations\"); "
                          "dbfleet upgrade does", ("backup",))
        return
    yield Finding(DISRUPTIVE, "version-major", summary, "a rolling upgrade to the next major"
                  + (" (the operator then raises featureCompatibilityVersion)" if d.engine == "mongodb" else ""), path)


# PostgreSQL parameters of context "postmaster" (pg_settings, PostgreSQL 16-18): a change needs a
# restart, which CloudNativePG does itself (a rolling restart, the primary last).  Others reload.
POSTMASTER = frozenset("""
archive_mode autovacuum_max_workers autovacuum_worker_slots bonjour bonjour_name cluster_name config_file
data_directory data_sync_retry dynamic_shared_memory_type event_source external_pid_file hba_file hot_standby
huge_page_size huge_pages ident_file io_max_concurrency io_method jit_provider listen_addresses logging_collector
max_connections max_files_per_process max_locks_per_transaction max_logical_replication_workers
max_notify_queue_pages max_pred_locks_per_transaction max_prepared_transactions max_replication_slots
max_wal_senders max_worker_processes min_dynamic_shared_memory old_snapshot_threshold port
recovery_target recovery_target_action recovery_target_inclusive recovery_target_lsn recovery_target_name
recovery_target_time recovery_target_timeline recovery_target_xid reserved_connections shared_buffers
shared_memory_type shared_preload_libraries superuser_reserved_connections track_activity_query_size
track_commit_timestamp unix_socket_directories unix_socket_group unix_socket_permissions wal_buffers
wal_decode_buffer_size wal_level wal_log_hints
""".split())
RESTART_EVIDENCE = {
    "postgresql": "parameters of context postmaster (PostgreSQL's pg_settings) need a restart: CloudNativePG "
                  "restarts the instances one by one, the primary last (primaryUpdateStrategy: unsupervised)",
    "mysql": "the PXC operator restarts every pod when the configuration changes (a hash of it is a pod annotation)",
    "mongodb": "the PSMDB operator restarts every pod when the configuration changes (a hash of it is a pod annotation)",
    "kafka": "Strimzi rolls the brokers unless every changed option is dynamically updatable (its "
             "KafkaBrokerConfigurationDiff): dbfleet counts it as a roll",
}


def parameters(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters" or not d.changed("parameters"):
        return
    old, new = (values or {} for values in d.values("parameters"))
    changed = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    restart = [key for key in changed if key in POSTMASTER] if d.engine == "postgresql" else changed
    summary = "parameters " + ", ".join(f"{key} {old.get(key, '(default)')} -> {new.get(key, '(default)')}" for key in changed)
    if restart:
        yield Finding(DISRUPTIVE, "parameters-restart", summary, RESTART_EVIDENCE.get(d.engine, "the instances restart"),
                      ("parameters",))
    else:
        yield Finding(SAFE, "parameters-reload", summary, "PostgreSQL reloads these (context sighup, superuser or "
                      "user): CloudNativePG applies them without a restart", ("parameters",))


def replicas(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters" or not d.changed("replicas"):
        return
    old, new = d.values("replicas")
    if new > old:
        yield Finding(SAFE, "scale-up", f"replicas {old} -> {new}", "new instances join and copy the data from the "
                      "others; nothing restarts", ("replicas",))
    else:
        yield Finding(DISRUPTIVE, "scale-down", f"replicas {old} -> {new}", "the operator removes instances (and "
                      "CloudNativePG their volumes); clients connected to them reconnect"
                      + ("; Strimzi refuses to remove brokers that still hold partitions" if d.engine == "kafka" else ""),
                      ("replicas",))


def resources_and_scheduling(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters":
        return
    for key, what in (("resources", "resources"), ("scheduling", "scheduling")):
        if d.changed(key):
            yield Finding(DISRUPTIVE, f"{key}-changed", f"{what} changed", "a rolling update: each instance restarts "
                          "with the new pod spec (CloudNativePG: the primary last, by switchover)", (key,))
    if d.changed("tls", "enabled") and d.new["tls"]["enabled"]:
        yield Finding(DISRUPTIVE, "tls-required", "TLS required", "clients that connect without TLS are refused from "
                      "then on", ("tls",))


def pooler(d: EntryDiff) -> Iterator[Finding]:
    if d.section != "clusters" or not d.changed("pooler"):
        return
    old, new = d.values("pooler")
    path = ("pooler",)
    if old["enabled"] and not new["enabled"]:
        yield Finding(DISRUPTIVE, "pooler-removed", "pooler removed", "the pooler's Deployment and Service go: clients "
                      "that connect through it lose their endpoint", path)
    elif new["enabled"] and not old["enabled"]:
        yield Finding(SAFE, "pooler-added", "pooler added", "a new Deployment and Service beside the cluster", path)
    elif new["enabled"]:
        if old["mode"] != new["mode"]:
            yield Finding(DISRUPTIVE, "pooler-mode", f"pooler mode {old['mode']} -> {new['mode']}", "PgBouncer restarts "
                          "with the new pool mode: open client connections are dropped, and session features "
                          "(prepared statements, SET, advisory locks) behave differently in transaction mode", path)
        if old["replicas"] != new["replicas"]:
            yield Finding(SAFE, "pooler-replicas", f"pooler replicas {old['replicas']} -> {new['replicas']}",
                          "the pooler Deployment scales", path)
        if old["parameters"] != new["parameters"]:
            yield Finding(SAFE, "pooler-parameters", "pooler parameters changed", "CloudNativePG reloads PgBouncer's "
                          "configuration in place", path)


def _location(store: dict[str, Any] | None) -> Any:
    """What places a store's backups (not how dbfleet authenticates to it)."""
    if not store:
        return None
    return {kind: {k: v for k, v in (store.get(kind) or {}).items() if k != "credentialsSecret"}
            for kind in ("s3", "gcs", "azure", "volume") if store.get(kind)}


def backup(d: EntryDiff) -> Iterator[Finding]:
    if d.section not in ("clusters", "databases") or d.engine == "kafka":
        return
    old, new = d.values("backup")
    path = ("backup",)
    if old["method"] != "none" and new["method"] == "none":
        yield Finding(DESTRUCTIVE, "backups-stopped", f"backup method {old['method']} -> none", "no more backups: the "
                      "schedule and archiving objects go, and nothing keeps the existing backups' retention", path)
        return
    if old["method"] == "none":
        if new["method"] != "none":
            yield Finding(SAFE, "backups-started", f"backups ({new['method']}) added", "backups start at the next "
                          "scheduled run", path)
        return
    if old["method"] != new["method"]:
        yield Finding(DESTRUCTIVE, "backup-method-changed", f"backup method {old['method']} -> {new['method']}",
                      "the other method writes elsewhere and another way: the existing backups are no longer listed, "
                      "pruned or restorable through the catalog", path)
    if old["store"] != new["store"] or _location(d.old_stores.get(old["store"])) != _location(d.new_stores.get(new["store"])):
        yield Finding(DESTRUCTIVE, "backup-store-changed", f"backup store {old['store']} -> {new['store']}",
                      "backups so far stay in the old location, which restores and retention no longer read; the new "
                      "one is empty until the next full backup (no point-in-time recovery before it)", path)
    if old["retention"] and new["retention"] and retention_days(new["retention"]) < retention_days(old["retention"]):
        yield Finding(DESTRUCTIVE, "retention-shortened", f"retention {old['retention']} -> {new['retention']}",
                      "the next retention run deletes the backups older than the new period", path)
    if old.get("pitr") and not new.get("pitr"):
        yield Finding(DESTRUCTIVE, "pitr-stopped", "point-in-time recovery turned off", "transaction logs are no "
                      "longer uploaded: recovery only to a full backup from then on", path)
    if old.get("serverName") != new.get("serverName") and not d.changed("version"):
        yield Finding(DISRUPTIVE, "archive-renamed", f"backup serverName {old.get('serverName') or '(the name)'} -> "
                      f"{new.get('serverName') or '(the name)'}", "archiving starts a new folder: point-in-time "
                      "recovery from it begins at the next base backup", path)
    if old["schedule"] != new["schedule"]:
        yield Finding(SAFE, "backup-schedule", f"backup schedule {old['schedule']} -> {new['schedule']}",
                      "the next run follows the new schedule", path)
    if old.get("onDemand") != new.get("onDemand") and new.get("onDemand"):
        yield Finding(SAFE, "on-demand-backup", f"on-demand backup {new['onDemand']}", "one backup object, created "
                      "once and never pruned", ("backup", "onDemand"))


def restore(d: EntryDiff) -> Iterator[Finding]:
    if d.section not in ("clusters", "databases") or not d.changed("restore"):
        return
    if d.new["restore"]:
        yield Finding(DESTRUCTIVE, "restore-on-existing", "restore section on an existing " + d.section[:-1],
                      "bootstrap from backups acts only when the cluster is created: on a running one it does nothing "
                      "now, and if the cluster is ever re-created (a deleted object, a disaster recovery sync) it "
                      "silently rolls the data back to the backup. Restore into a new entry (dbfleet restore)"
                      if d.section == "clusters" else
                      "the restore Job loads the dump into the live database: its current data is overwritten",
                      ("restore",))
    else:
        yield Finding(SAFE, "restore-removed", "restore section removed", "it acted when the data was restored; the "
                      "running data is kept", ("restore",))


def restart(d: EntryDiff) -> Iterator[Finding]:
    if d.section == "clusters" and d.changed("restartedAt") and d.new.get("restartedAt"):
        yield Finding(DISRUPTIVE, "restart", f"restart requested at {d.new['restartedAt']}", "a rolling restart of "
                      "every instance", ("restartedAt",))


def contents(d: EntryDiff) -> Iterator[Finding]:
    """What lives inside a cluster: logical databases, topics, users, the SQLite file."""
    if d.section == "clusters":
        old_dbs = {db["name"] for db in d.old.get("databases") or []}
        gone = sorted(old_dbs - {db["name"] for db in d.new.get("databases") or []})
        if gone:
            yield Finding(DISRUPTIVE, "database-unmanaged", "logical database " + ", ".join(gone) + " removed",
                          "its Database object goes; CloudNativePG keeps the database (databaseReclaimPolicy: "
                          "retain), no longer managed", ("databases",))
        old_topics = {t["name"]: t for t in d.old.get("topics") or []}
        gone = sorted(set(old_topics) - {t["name"] for t in d.new.get("topics") or []})
        if gone:
            yield Finding(DESTRUCTIVE, "topic-removed", "topic " + ", ".join(gone) + " removed", "the GitOps engine "
                          "prunes the KafkaTopic, and Strimzi's Topic Operator then deletes the topic and its messages "
                          "(its finalizer strimzi.io/topic-operator)", ("topics",))
        for topic in d.new.get("topics") or []:
            before = old_topics.get(topic["name"])
            if before and topic["partitions"] < before["partitions"]:
                yield Finding(DESTRUCTIVE, "topic-partitions-reduced", f"topic {topic['name']} partitions "
                              f"{before['partitions']} -> {topic['partitions']}", "Kafka cannot remove partitions: "
                              "the Topic Operator refuses (KafkaTopic status NotSupported)", ("topics",))
        old_users = {u["name"] for u in d.old.get("users") or []}
        gone = sorted(old_users - {u["name"] for u in d.new.get("users") or []})
        if gone:
            yield Finding(DISRUPTIVE, "kafka-user-removed", "Kafka user " + ", ".join(gone) + " removed",
                          "the User Operator deletes the user, its ACLs and its Secret: its clients are refused",
                          ("users",))
        if d.engine == "sqlite" and d.changed("sqlite", "file"):
            old, new = d.values("sqlite", "file")
            yield Finding(DESTRUCTIVE, "sqlite-file-changed", f"database file {old} -> {new}", "the app opens a new, "
                          "empty file and Litestream replicates it to a new path: the old data is left behind",
                          ("sqlite", "file"))
    if d.section == "databases":
        for key in ("owner", "credentialsSecret"):
            if d.changed(key):
                old, new = d.values(key)
                yield Finding(DISRUPTIVE, f"{key}-changed", f"{key} {old or '(default)'} -> {new or '(default)'}",
                              "apps reach the database with other credentials: each must be given them", (key,))
    if d.section == "vclusters":
        if d.changed("database"):
            old, new = d.values("database")
            yield Finding(DESTRUCTIVE, "backing-store-changed", f"backing database {old} -> {new}", "the control "
                          "plane starts on an empty database: every object in the vCluster is gone", ("database",))
        if d.changed("chartVersion"):
            old, new = d.values("chartVersion")
            down = _numbers(str(new)) < _numbers(str(old))
            yield Finding(DESTRUCTIVE if down else DISRUPTIVE, "chart-downgrade" if down else "chart-upgrade",
                          f"chart {old} -> {new}", "vCluster does not support downgrades: the older control plane may "
                          "not read its store" if down else "the control plane restarts with the new chart",
                          ("chartVersion",))
        if d.changed("values"):
            yield Finding(DISRUPTIVE, "values-changed", "chart values changed", "Helm upgrades the release: the "
                          "control plane restarts", ("values",))


RULES: tuple[Rule, ...] = (engine_changed, moved, storage, version, parameters, replicas, resources_and_scheduling,
                           pooler, backup, restore, restart, contents)


def check(d: EntryDiff) -> Iterator[Finding]:
    # Another engine is another cluster: what its settings did under the old one says nothing.
    rules = (engine_changed, moved) if d.section == "clusters" and d.changed("engine") else RULES
    for rule in rules:
        yield from rule(d)
