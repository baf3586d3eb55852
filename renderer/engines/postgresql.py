"""PostgreSQL on CloudNativePG 1.30 with the barman-cloud plugin 0.14."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.engines import alerts, drills
from renderer.kube.versions import image
from renderer.planning.components import (
    WAVE_CLUSTER,
    WAVE_CONFIG,
    WAVE_DEPENDENT,
    Component,
    Fleet,
    guaranteed,
    on_demand_backup,
    store_credentials,
    owner,
    proxy_services,
    role_secret,
    role_secrets,
    settings,
    tolerations,
)
from renderer.planning.locations import STORE_SECRET_KEYS, backup_location, entry_identity, store_identity, store_kind

PORT = 5432
# CloudNativePG's operand images run PostgreSQL as this user and group (api/v1/cluster_types.go at
# v1.30.0: DefaultPostgresUID, DefaultPostgresGID); the restore drill runs as it too.
POSTGRES_UID = 26
GCS_CREDENTIALS = "/var/run/secrets/gcs"
# The barman-cloud provider of each store kind, and the variables it reads the keys from
# (cloudnative-pg/barman-cloud pkg/credentials/env.go: AWS_*, AZURE_STORAGE_*, GOOGLE_APPLICATION_CREDENTIALS).
BARMAN_PROVIDERS = {"s3": "aws-s3", "azure": "azure-blob-storage", "gcs": "google-cloud-storage"}
BARMAN_KEYS = {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY",
               "account": "AZURE_STORAGE_ACCOUNT", "key": "AZURE_STORAGE_KEY", "file": "GOOGLE_APPLICATION_CREDENTIALS"}


def _destination(store: dict[str, Any], env: str) -> str:
    """The environment's folder in the store; the plugin adds the server name (the cluster's
    name) under it, so each cluster of each environment archives into a folder of its own."""
    folder = backup_location(store, env).path
    if store["azure"]:
        azure = store["azure"]
        return f"https://{azure['storageAccount']}.blob.core.windows.net/{azure['container']}/{folder}"
    scheme = "s3" if store["s3"] else "gs"
    return f"{scheme}://{store[store_kind(store)]['bucket']}/{folder}"


def object_stores(cluster: dict[str, Any], env: str) -> dict[tuple[str, str], str]:
    """The ObjectStores a cluster uses, by (store, environment): the one it archives into, and the
    one a restore reads another cluster's (or environment's) backups from."""
    found: dict[tuple[str, str], str] = {}
    backup, restore = cluster["backup"], cluster["restore"]
    if backup["method"] == "native":
        found[(backup["store"], env)] = f"{cluster['name']}-{backup['store']}"
    if restore:
        source_env = restore["environment"] or env
        suffix = "" if source_env == env else f"-{source_env}"
        found.setdefault((restore["fromStore"], source_env), f"{cluster['name']}-{restore['fromStore']}{suffix}")
    return found


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    stores = fleet.stores
    name = cluster["name"]
    namespace = cluster["namespace"]
    base = {"cluster": cluster, "namespace": namespace}
    backup = cluster["backup"]
    native = backup["method"] == "native"
    restore = cluster["restore"]
    used = object_stores(cluster, fleet.env)
    for (store_name, env), object_store in used.items():
        writes = native and (store_name, env) == (backup["store"], fleet.env)
        yield Component(
            "postgresql/objectstore.yaml.j2",
            {
                **base,
                "object_store": object_store,
                "store": stores[store_name],
                "destination": _destination(stores[store_name], env),
                "retention": backup["retention"] if writes else None,  # read only: no retention of its own
                "keys": STORE_SECRET_KEYS,
            },
            "backup",
            WAVE_CONFIG,
        )
    owners = sorted({owner(db) for db in cluster["databases"]})
    yield from role_secrets(fleet, namespace, name, owners, reload=True)
    roles = [{"name": owner, "secret": role_secret(name, owner)} for owner in owners]
    yield Component(
        "postgresql/cluster.yaml.j2",
        {
            **base,
            "cluster": {**cluster, "parameters": settings(cluster["parameters"])},
            "image": image("postgresql", cluster["version"]),
            "tls": cluster["tls"]["enabled"],
            "resources": guaranteed(cluster["resources"]),
            "anti_affinity": cluster["scheduling"]["antiAffinity"],
            "tolerations": tolerations(cluster),
            "roles": roles,
            "backup_object": used[(backup["store"], fleet.env)] if native else None,
            "identity": entry_identity(cluster, stores),
            "restore": restore
            and {
                "source": restore["sourceCluster"] or name,
                "server_name": restore["serverName"] or restore["sourceCluster"] or name,
                "object_store": used[(restore["fromStore"], restore["environment"] or fleet.env)],
                "point_in_time": restore["pointInTime"],
            },
        },
        "database",
        WAVE_CLUSTER,
        holds_data=True,
    )
    yield from on_demand_backup("postgresql/backup.yaml.j2", cluster)
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
    drill = backup["drill"] if native else None
    if drill:
        yield from _drill(cluster, stores[backup["store"]], fleet.env)
    if cluster["monitoring"]["enabled"]:
        yield Component("postgresql/podmonitor.yaml.j2", base, "monitoring", WAVE_DEPENDENT)
        if native and backup["schedule"]:
            yield alerts.postgresql(cluster, backup["schedule"], drill and (drills.name(cluster), drill["schedule"]))
    yield from proxy_services(
        cluster,
        "postgresql",
        PORT,
        {"cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary"},
        {"cnpg.io/poolerName": f"{name}-pooler"} if pooler["enabled"] else None,
    )


def _drill(cluster: dict[str, Any], store: dict[str, Any], env: str) -> list[Component]:
    """The newest base backup and the archived WAL restored in the drill's pod (the cluster's image
    carries barman-cloud), not into a scratch cluster: no access to the Kubernetes API, and no
    archive the copy could write to."""
    name = cluster["name"]
    kind = store_kind(store)
    database = cluster["backup"]["drill"]["database"] or cluster["databases"][0]["name"]  # the rules ask for one
    credentials, volumes, mounts = store_credentials(store, BARMAN_KEYS, GCS_CREDENTIALS)
    settings = store[kind]
    identity = store_identity(cluster["backup"]["store"], store)
    plain = {
        "CLUSTER": name,
        "DESTINATION": _destination(store, env),
        "SERVER_NAME": cluster["backup"]["serverName"] or name,
        "CLOUD_PROVIDER": BARMAN_PROVIDERS[kind],
        "ENDPOINT_URL": settings.get("endpoint") if kind == "s3" else None,
        "AWS_DEFAULT_REGION": settings.get("region") if kind == "s3" else None,
        # What the plugin passes for an ObjectStore with inheritFromAzureAD (commandbuilder.go).
        "AZURE_CREDENTIAL": "managed-identity" if kind == "azure" and identity else None,
        "DB_NAME": database,
        "DB_OWNER": next(owner(db) for db in cluster["databases"] if db["name"] == database),
    }
    scripts = [("drill.sh", "postgresql/drill.sh"), ("barman.sh", "postgresql/barman.sh"),
               ("wal-restore.sh", "postgresql/wal-restore.sh"), ("drill-report.sh", "databases/drill-report.sh")]
    return drills.components(cluster, scripts, image=image("postgresql", cluster["version"]),
                             command=["bash", "/scripts/drill.sh"], uid=POSTGRES_UID,
                             env=[{"name": k, "value": v} for k, v in plain.items() if v] + credentials,
                             mounts=mounts, volumes=volumes, identity=identity, ephemeral=True)
