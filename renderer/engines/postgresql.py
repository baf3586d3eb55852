"""PostgreSQL on CloudNativePG 1.30 with the barman-cloud plugin 0.14."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.components import (
    WAVE_CLUSTER,
    WAVE_CONFIG,
    WAVE_DEPENDENT,
    Component,
    Fleet,
    guaranteed,
    owner,
    proxy_services,
    role_secret,
    role_secrets,
    settings,
    tolerations,
)

CNPG_IMAGE = "ghcr.io/cloudnative-pg/postgresql"
PORT = 5432


def _destination(store: dict[str, Any]) -> str:
    if store["s3"]:
        base, path = f"s3://{store['s3']['bucket']}", store["s3"]["path"]
    elif store["gcs"]:
        base, path = f"gs://{store['gcs']['bucket']}", store["gcs"]["path"]
    else:
        azure = store["azure"]
        base = f"https://{azure['storageAccount']}.blob.core.windows.net/{azure['container']}"
        path = azure["path"]
    # The plugin adds the server name (the cluster's name) under this path.
    return f"{base}/{path.strip('/')}" if path else base


def object_store_name(cluster: str, store: str) -> str:
    return f"{cluster}-{store}"


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    stores = fleet.stores
    name = cluster["name"]
    namespace = cluster["namespace"]
    base = {"cluster": cluster, "namespace": namespace}
    backup = cluster["backup"]
    native = backup["method"] == "native"
    restore = cluster["restore"]
    object_stores: dict[str, str | None] = {}
    if native:
        object_stores[backup["store"]] = backup["retention"]
    if restore and restore["fromStore"] not in object_stores:
        object_stores[restore["fromStore"]] = None  # read only: no retention of its own
    for store_name, retention in object_stores.items():
        yield Component(
            "postgresql/objectstore.yaml.j2",
            {
                **base,
                "object_store": object_store_name(name, store_name),
                "store": stores[store_name],
                "destination": _destination(stores[store_name]),
                "retention": retention,
            },
            "backup",
            WAVE_CONFIG,
        )
    owners = sorted({owner(db) for db in cluster["databases"]})
    yield from role_secrets(fleet, namespace, name, owners)
    roles = [{"name": owner, "secret": role_secret(name, owner)} for owner in owners]
    yield Component(
        "postgresql/cluster.yaml.j2",
        {
            **base,
            "cluster": {**cluster, "parameters": settings(cluster["parameters"])},
            "image": f"{CNPG_IMAGE}:{cluster['version']}",
            "tls": cluster["tls"]["enabled"],
            "resources": guaranteed(cluster["resources"]),
            "anti_affinity": cluster["scheduling"]["antiAffinity"],
            "tolerations": tolerations(cluster),
            "roles": roles,
            "backup_object": object_store_name(name, backup["store"]) if native else None,
            "restore": restore
            and {
                "source": restore["sourceCluster"],
                "object_store": object_store_name(name, restore["fromStore"]),
                "point_in_time": restore["pointInTime"],
            },
        },
        "database",
        WAVE_CLUSTER,
        holds_data=True,
    )
    if native and backup["schedule"]:
        schedule = backup["schedule"]
        six_fields = schedule if schedule.startswith("@") else f"0 {schedule}"
        yield Component("postgresql/scheduledbackup.yaml.j2", {**base, "schedule": six_fields}, "backup", WAVE_DEPENDENT)
    pooler = cluster["pooler"]
    if pooler["enabled"]:
        yield Component(
            "postgresql/pooler.yaml.j2",
            {**base, "pooler_name": f"{name}-pooler", "cluster": {**cluster, "pooler": {**pooler, "parameters": settings(pooler["parameters"])}}},
            "pooler",
            WAVE_DEPENDENT,
        )
    for database in cluster["databases"]:
        yield Component(
            "postgresql/database.yaml.j2",
            {
                **base,
                "database": database,
                "owner": owner(database),
                "resource_name": f"{name}-{database['name'].replace('_', '-')}",
            },
            "database",
            WAVE_DEPENDENT,
        )
    if cluster["monitoring"]["enabled"]:
        yield Component("postgresql/podmonitor.yaml.j2", base, "monitoring", WAVE_DEPENDENT)
    yield from proxy_services(
        cluster,
        "postgresql",
        PORT,
        {"cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary"},
        {"cnpg.io/poolerName": f"{name}-pooler"} if pooler["enabled"] else None,
    )
