"""What the Percona operators (XtraDB Cluster and Server for MongoDB) share: images pinned by
dbfleet (``upgradeOptions.apply: disabled`` keeps Git in charge of them), backup storages built
from the catalog's stores, count-based retention, and anti-affinity."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from renderer import cron

PMM_IMAGE = "percona/pmm-client:3.3.1"
PMM_SERVER = "monitoring-service"
HOSTNAME = "kubernetes.io/hostname"


def retention(backup: dict[str, Any]) -> dict[str, Any] | None:
    """The operators keep a count of backups: the number the schedule makes in the retention."""
    if not backup["schedule"] or not backup["retention"]:
        return None
    return {"type": "count", "count": cron.backups_to_keep(backup["schedule"], backup["retention"]), "deleteFromStorage": True}


def prefix(store: dict[str, Any]) -> str | None:
    kind = next(k for k in ("s3", "gcs", "azure", "volume") if store[k])
    path = store[kind]["path"]
    return path.strip("/") if path else None


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
