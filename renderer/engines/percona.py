"""What the Percona operators (XtraDB Cluster and Server for MongoDB) share: images pinned by
dbfleet (``upgradeOptions.apply: disabled`` keeps Git in charge of them), backup storages built
from the catalog's stores, count-based retention, and anti-affinity."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from renderer.kube import cron
from renderer.planning.components import Component, Fleet, WAVE_DEPENDENT
from renderer.planning.locations import Location, backup_location

PMM_SERVER = "monitoring-service"
HOSTNAME = "kubernetes.io/hostname"


def retention(backup: dict[str, Any]) -> dict[str, Any] | None:
    """The operators keep a count of backups: the number the schedule makes in the retention."""
    if not backup["schedule"] or not backup["retention"]:
        return None
    return {"type": "count", "count": cron.backups_to_keep(backup["schedule"], backup["retention"]), "deleteFromStorage": True}


def anti_affinity(cluster: dict[str, Any], component: str) -> dict[str, Any]:
    """``required`` spreads pods over nodes; ``preferred`` tries to; ``none`` lets them share."""
    mode = cluster["scheduling"]["antiAffinity"]
    if mode == "required":
        return {"antiAffinityTopologyKey": HOSTNAME}
    if mode == "none":
        return {"antiAffinityTopologyKey": "none"}
    selector = {"app.kubernetes.io/instance": cluster["name"], "app.kubernetes.io/component": component}
    return {
        "advanced": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {"topologyKey": HOSTNAME, "labelSelector": {"matchLabels": selector}}}
                ]
            }
        }
    }


def volume_claim(storage: dict[str, Any]) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "accessModes": [storage["accessMode"] or "ReadWriteOnce"],
        "resources": {"requests": {"storage": str(storage["size"])}},
    }
    if storage["class"]:
        claim["storageClassName"] = storage["class"]
    return claim


def config_file(section: str, parameters: dict[str, Any] | None) -> str | None:
    """An INI file (my.cnf) from the catalog's parameters, in the catalog's order."""
    if not parameters:
        return None
    lines = [f"[{section}]"] + [f"{key}={_ini(value)}" for key, value in parameters.items()]
    return "\n".join(lines) + "\n"


def _ini(value: Any) -> str:
    return ("ON" if value else "OFF") if isinstance(value, bool) else str(value)


def utc(point_in_time: str | None) -> str | None:
    """An RFC 3339 time as the Percona restores read it: ``YYYY-MM-DD hh:mm:ss`` in UTC."""
    if point_in_time is None:
        return None
    moment = datetime.fromisoformat(point_in_time.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


Storage = Callable[[dict[str, Any], str], dict[str, Any]]  # a catalog store and a prefix: a storage entry


def given(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings the catalog gave, without the empty ones."""
    return {k: v for k, v in settings.items() if v is not None}


def restore_source(cluster: dict[str, Any], fleet: Fleet, source_cluster: str) -> tuple[str, Location]:
    """The storage name a restore reads from (for PITR), and the folder of the backups it reads:
    ``source_cluster``'s, in the environment the catalog names (default: this one)."""
    restore, backup = cluster["restore"], cluster["backup"]
    where = backup_location(fleet.stores[restore["fromStore"]], restore["environment"] or fleet.env, source_cluster)
    own = backup["method"] == "native" and restore["fromStore"] == backup["store"]
    if own and where == backup_location(fleet.stores[backup["store"]], fleet.env, cluster["name"]):
        return backup["store"], where
    return (f"{restore['fromStore']}-restore" if own else restore["fromStore"]), where


def storages(cluster: dict[str, Any], fleet: Fleet, storage: Storage, source_cluster: str) -> dict[str, dict[str, Any]]:
    """``backup.storages``: the store backups go to (this environment's and cluster's folder), and
    the folder a restore reads from."""
    backup, restore = cluster["backup"], cluster["restore"]
    found: dict[str, dict[str, Any]] = {}
    if backup["method"] == "native":
        store = fleet.stores[backup["store"]]
        found[backup["store"]] = storage(store, backup_location(store, fleet.env, cluster["name"]).path)
    if restore:
        name, where = restore_source(cluster, fleet, source_cluster)
        found.setdefault(name, storage(fleet.stores[restore["fromStore"]], where.path))
    return found


def scheduled(backup: dict[str, Any]) -> dict[str, Any] | None:
    """The fields the two operators' scheduled backups share."""
    if backup["method"] != "native" or not backup["schedule"]:
        return None
    return {"name": "scheduled", "schedule": backup["schedule"], "retention": retention(backup), "storageName": backup["store"]}


def pmm(cluster: dict[str, Any], image: str) -> dict[str, Any] | None:
    monitoring = cluster["monitoring"]
    return {"image": image, "server": monitoring["pmmServer"] or PMM_SERVER} if monitoring["enabled"] else None


def destination(folder: Location, backup: str) -> str:
    """Where a backup lives in a store, as the restores name it."""
    scheme = {"s3": "s3://", "gcs": "gs://", "azure": "azure://"}[folder.kind]
    container = folder.bucket.split("/", 1)[-1]  # an Azure location names the account, then the container
    return f"{scheme}{'/'.join((container, *folder.folder, backup))}"


def restore(template: str, cluster: dict[str, Any], fleet: Fleet, storage: Storage, source: dict[str, Any],
            source_cluster: str) -> Iterator[Component]:
    """The operator's restore object for a cluster bootstrapped from a backup of another; with
    a point in time, the storage whose logs it replays."""
    wanted = cluster["restore"]
    if not wanted:
        return
    storage_name, where = restore_source(cluster, fleet, source_cluster)
    settings = {k: v for k, v in storage(fleet.stores[wanted["fromStore"]], where.path).items() if k in ("s3", "gcs", "azure")}
    yield Component(
        template,
        {
            "namespace": cluster["namespace"],
            "name": f"{cluster['name']}-restore",
            "cluster": cluster["name"],
            "source": {**source, "destination": destination(where, wanted["backup"]), **settings},
            "point_in_time": utc(wanted["pointInTime"]),
            "pitr_storage": storage_name,
        },
        "restore",
        WAVE_DEPENDENT,
    )
