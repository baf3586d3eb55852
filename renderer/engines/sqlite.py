"""SQLite with Litestream 0.5: one writer, its database on a volume, replicated to one store.

Without ``sqlite.attachTo`` the writer is a StatefulSet of one pod (which serves sqlite-rest when
asked); with it, a kustomize Component patches the user's own workload into that writer.
"""
from __future__ import annotations

from typing import Any, Iterator

from renderer import emit
from renderer.engines import alerts, drills
from renderer.kube import cron
from renderer.planning.components import (WAVE_CLUSTER, WAVE_CONFIG, WAVE_DEPENDENT, Component, Credentials, Fleet, guaranteed,
                                 restart_annotations, secret_volume, store_credentials, tolerations)
from renderer.planning.locations import backup_location, entry_identity, store_kind

LITESTREAM_IMAGE = "litestream/litestream:0.5.17"
SQLITE_IMAGE = "keinos/sqlite3:3.47.2"
REST_IMAGE = "ghcr.io/b4fun/sqlite-rest/server:v0.4.0"
DATA, CONFIG, BACKUP = "/data", "/etc/litestream", "/backup"
GCS_CREDENTIALS = "/var/run/secrets/litestream/gcs"
REST_AUTH = "/var/run/secrets/sqlite-rest"
METRICS_PORT, REST_PORT = 9090, 8080
USER_ID = 65532  # non-root, and the owner of the data volume (fsGroup)
SNAPSHOT_INTERVAL = "24h"
LABEL = "dbfleet.dev/sqlite"


def replica(cluster: dict[str, Any], store: dict[str, Any], env: str) -> dict[str, Any]:
    """The database's one Litestream replica, in its environment's folder: settings only,
    credentials come from the environment."""
    kind = store_kind(store)
    settings = store[kind]
    path = backup_location(store, env, cluster["name"]).path
    if kind == "s3":
        out = {"type": "s3", "bucket": settings["bucket"], "path": path, "region": settings["region"], "endpoint": settings["endpoint"]}
    elif kind == "gcs":
        out = {"type": "gs", "bucket": settings["bucket"], "path": path}
    elif kind == "azure":
        out = {"type": "abs", "account-name": settings["storageAccount"], "bucket": settings["container"], "path": path}
    else:
        out = {"type": "file", "path": f"{BACKUP}/{path}"}
    return {k: v for k, v in out.items() if v is not None}


def litestream_config(cluster: dict[str, Any], store: dict[str, Any] | None, env: str) -> str:
    """litestream.yml in the 0.5 format: metrics on :9090, snapshots, one replica."""
    config: dict[str, Any] = {"addr": f":{METRICS_PORT}"}
    retention = cluster["backup"]["retention"]
    if store is not None and retention:
        config["snapshot"] = {"interval": SNAPSHOT_INTERVAL, "retention": f"{cron.retention_days(retention) * 24}h"}
    database: dict[str, Any] = {"path": f"{DATA}/{cluster['sqlite']['file']}"}
    if store is not None:
        database["replica"] = replica(cluster, store, env)
    config["dbs"] = [database]
    return emit.dump(config)


# The variables Litestream reads a store's keys from (GCS: the key file's path).
LITESTREAM_KEYS = {"accessKeyId": "LITESTREAM_ACCESS_KEY_ID", "secretAccessKey": "LITESTREAM_SECRET_ACCESS_KEY",
                   "key": "LITESTREAM_AZURE_ACCOUNT_KEY", "file": "GOOGLE_APPLICATION_CREDENTIALS"}


def _credentials(store: dict[str, Any] | None) -> Credentials:
    """Environment, volumes and mounts that give Litestream the store's credentials (or volume)."""
    if store is None:
        return [], [], []
    if store["volume"]:
        return [], [{"name": "backup", "persistentVolumeClaim": {"claimName": store["volume"]["claim"]}}], \
            [{"name": "backup", "mountPath": BACKUP}]
    return store_credentials(store, LITESTREAM_KEYS, GCS_CREDENTIALS)


def pod_parts(cluster: dict[str, Any], store: dict[str, Any] | None, sidecar: bool) -> dict[str, Any]:
    """Volumes, init containers and containers of the writer pod, for a StatefulSet or a patch.

    In the user's own pod, Litestream is a native sidecar (an init container that keeps running):
    it starts before the app and stops after it, and leaves the app's containers as they were."""
    name, sqlite, rest = cluster["name"], cluster["sqlite"], cluster["rest"]
    database = f"{DATA}/{sqlite['file']}"
    env, volumes, credential_mounts = _credentials(store)
    config_file = f"{CONFIG}/litestream.yml"
    mounts = [{"name": "data", "mountPath": DATA}, {"name": "litestream-config", "mountPath": CONFIG, "readOnly": True}]
    security = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    init: list[dict[str, Any]] = [
        {
            "name": "litestream-restore",
            "image": LITESTREAM_IMAGE,
            # Restore only when the volume has no database and the store has a replica.
            "args": ["restore", "-config", config_file, "-no-expand-env", "-if-db-not-exists", "-if-replica-exists", database],
            "env": env,
            "volumeMounts": mounts + credential_mounts,
            "securityContext": security,
        },
        {
            "name": "sqlite-init",
            "image": SQLITE_IMAGE,
            "command": ["sh", f"{CONFIG}/init.sh", database, f"{CONFIG}/init.sql"],
            "volumeMounts": mounts,
            "securityContext": security,
        },
    ]
    litestream: list[dict[str, Any]] = [
        {
            "name": "litestream",
            "image": LITESTREAM_IMAGE,
            # Litestream expands $VAR in its config: a store path "p/$LITESTREAM_SECRET_ACCESS_KEY"
            # would put the key in the path and the log. The config holds no variable of its own.
            "args": ["replicate", "-config", config_file, "-no-expand-env"],
            "env": env,
            "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
            "volumeMounts": mounts + credential_mounts,
            "securityContext": security,
            **({"resources": guaranteed(cluster["resources"])} if guaranteed(cluster["resources"]) else {}),
            **({"restartPolicy": "Always"} if sidecar else {}),
        }
    ]
    if sidecar:
        init, containers = init + litestream, []
    else:
        containers = litestream
    if rest["enabled"]:
        containers.append(
            {
                "name": "sqlite-rest",
                "image": REST_IMAGE,
                "args": ["serve", "--db-dsn", database, "--http-addr", f":{REST_PORT}",
                         "--auth-token-file", f"{REST_AUTH}/token",
                         "--security-allow-table", ",".join(rest["allowedTables"])],
                "ports": [{"name": "http", "containerPort": REST_PORT}],
                "volumeMounts": [{"name": "data", "mountPath": DATA},
                                 {"name": "sqlite-rest-auth", "mountPath": REST_AUTH, "readOnly": True}],
                "securityContext": security,
            }
        )
        volumes.append(secret_volume("sqlite-rest-auth", rest["authSecret"], "token"))
    volumes = [
        {"name": "data", "persistentVolumeClaim": {"claimName": f"{name}-data"}},
        {"name": "litestream-config", "configMap": {"name": f"{name}-litestream"}},
    ] + volumes
    return {"volumes": volumes, "initContainers": init, "containers": containers}


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    name, namespace = cluster["name"], cluster["namespace"]
    backup = cluster["backup"]
    store = fleet.stores[backup["store"]] if backup["method"] != "none" and backup["store"] else None
    selector = {LABEL: name}
    yield Component(
        "sqlite/persistentvolumeclaim.yaml.j2",
        {"namespace": namespace, "name": f"{name}-data", "storage": cluster["storage"]},
        "storage",
        WAVE_CONFIG,
        holds_data=True,
    )
    yield Component(
        "sqlite/configmap.yaml.j2",
        {"namespace": namespace, "name": f"{name}-litestream", "config": litestream_config(cluster, store, fleet.env),
         "init_sql": cluster["sqlite"]["initSQL"] or ""},
        "config",
        WAVE_CONFIG,
    )
    attach = cluster["sqlite"]["attachTo"]
    if attach is None:
        identity = _identity(cluster, fleet)
        yield Component(
            "sqlite/statefulset.yaml.j2",
            {"namespace": namespace, "name": name, "selector": selector, "user": USER_ID,
             "node_selector": cluster["scheduling"]["nodeSelector"], "tolerations": tolerations(cluster),
             "restarted_at": restart_annotations(cluster),
             **identity, **pod_parts(cluster, store, sidecar=False),
             "pod_labels": {**selector, **identity["identity_labels"]}},
            "database",
            WAVE_CLUSTER,
        )
    if cluster["rest"]["enabled"]:
        yield Component(
            "sqlite/service.yaml.j2",
            {"namespace": namespace, "name": name, "selector": selector, "port": REST_PORT},
            "rest",
            WAVE_DEPENDENT,
        )
        if cluster["ingress"]:
            yield Component(
                "sqlite/ingress.yaml.j2",
                {"namespace": namespace, "name": name, "ingress": cluster["ingress"], "port": REST_PORT},
                "rest",
                WAVE_DEPENDENT,
            )
    if cluster["monitoring"]["enabled"]:
        yield Component("sqlite/podmonitor.yaml.j2", {"namespace": namespace, "name": name, "selector": selector},
                        "monitoring", WAVE_DEPENDENT)
        if store is not None:  # the writer: this StatefulSet's pod, or the pods of the workload attached to
            pods = f"{name}-0" if attach is None else f"{attach['name']}-.+"
            drill = backup["drill"] and (drills.name(cluster), backup["drill"]["schedule"])
            yield alerts.litestream(namespace, name, pods, f"{DATA}/{cluster['sqlite']['file']}", drill)
    if store is not None and backup["drill"]:
        yield from _drill(cluster, store, fleet)
    patch = attach_patch(cluster, fleet)
    if patch is not None:
        yield patch


def _drill(cluster: dict[str, Any], store: dict[str, Any], fleet: Fleet) -> list[Component]:
    """The replica restored with the entry's Litestream configuration into a scratch folder, and
    the check query run by sqlite3 on the copy; Litestream's one static binary is lent to the
    sqlite3 image, as rclone is to the dump jobs'."""
    env, volumes, mounts = _credentials(store)
    mounts = [{**mount, "readOnly": True} for mount in mounts]  # the drill reads the replica
    tools: list[dict[str, Any]] = [{"name": "tools", "mountPath": "/tools"},
                                   {"name": "litestream-config", "mountPath": CONFIG, "readOnly": True}]
    plain = {"ENTRY": cluster["name"], "DB_PATH": f"{DATA}/{cluster['sqlite']['file']}",
             "LITESTREAM_CONFIG": f"{CONFIG}/litestream.yml"}
    copy = {"name": "litestream", "image": LITESTREAM_IMAGE, "command": ["cp", "/usr/local/bin/litestream", "/tools/litestream"],
            "volumeMounts": [{"name": "tools", "mountPath": "/tools"}], "securityContext": drills.SECURITY}
    return drills.components(
        cluster, [("drill.sh", "sqlite/drill.sh"), ("drill-report.sh", "databases/drill-report.sh")],
        image=SQLITE_IMAGE, command=["sh", "/scripts/drill.sh"], uid=USER_ID,
        env=[{"name": k, "value": v} for k, v in plain.items()] + env,
        mounts=tools + mounts,
        volumes=[{"name": "tools", "emptyDir": {}},
                 {"name": "litestream-config", "configMap": {"name": f"{cluster['name']}-litestream"}}] + volumes,
        identity=entry_identity(cluster, fleet.stores), ephemeral=False, init_containers=[copy])


def _identity(cluster: dict[str, Any], fleet: Fleet) -> dict[str, Any]:
    found = entry_identity(cluster, fleet.stores)
    return {"service_account": found.account if found else None, "identity_labels": found.pod_labels if found else {}}


def attach_patch(cluster: dict[str, Any], fleet: Fleet) -> Component | None:
    """The kustomize Component that makes the user's workload the database's single writer."""
    attach = cluster["sqlite"]["attachTo"]
    if attach is None:
        return None
    backup = cluster["backup"]
    store = fleet.stores[backup["store"]] if backup["method"] != "none" and backup["store"] else None
    parts = pod_parts(cluster, store, sidecar=True)
    # The app's container opens the database: the volume is mounted into it (a strategic merge
    # patch merges containers by name, so the app's own settings stay).
    app = {"name": attach["container"] or attach["name"], "volumeMounts": [{"name": "data", "mountPath": DATA}]}
    parts["containers"] = [app, *parts["containers"]]
    spec: dict[str, Any] = {"replicas": 1}
    if attach["kind"] == "Deployment":
        # Recreate: the old pod stops before the new one starts, so two writers never overlap.
        spec["strategy"] = {"type": "Recreate", "rollingUpdate": None}
    identity = _identity(cluster, fleet)
    account = {"serviceAccountName": identity["service_account"]} if identity["service_account"] else {}
    spec["template"] = {
        "metadata": {"labels": {LABEL: cluster["name"], **identity["identity_labels"]},
                     **({"annotations": restart_annotations(cluster)} if cluster["restartedAt"] else {})},
        # With a store's cloud identity, the pod runs as the store's ServiceAccount (Litestream
        # shares the pod's identity): the app's own ServiceAccount is replaced.
        "spec": {"securityContext": {"fsGroup": USER_ID}, **account, **parts},
    }
    patch = {"apiVersion": "apps/v1", "kind": attach["kind"], "metadata": {"name": attach["name"]}, "spec": spec}
    return Component(
        "sqlite/component.yaml.j2",
        {"name": f"{cluster['name']}-litestream", "target": {"kind": attach["kind"], "name": attach["name"]}, "patch": emit.dump(patch)},
        "attach",
        WAVE_CLUSTER,
        file="attach/kustomization.yaml",
    )
