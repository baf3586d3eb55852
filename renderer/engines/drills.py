"""Restore drills of a cluster's native backups: a CronJob whose one pod restores the newest backup
into a scratch volume with the engine's own tools, runs the catalog's check query on the copy,
logs one ``dbfleet-drill`` line (templates/databases/drill-report.sh) and removes the copy.  It
needs no Kubernetes API: no token is mounted, and nothing is created but the pod."""
from __future__ import annotations

import json
from typing import Any

from renderer.engines import alerts
from renderer.planning.components import Component, WAVE_CONFIG, WAVE_DEPENDENT, guaranteed, tolerations
from renderer.planning.locations import Identity

DIR = "/var/lib/drill"  # the scratch volume
DEADLINE = 6 * 3600  # seconds a drill may take, restore and replay included
KEPT = 86400  # seconds a finished drill's pod (and its scratch volume) is kept, for its log
SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def name(cluster: dict[str, Any]) -> str:
    return f"{cluster['name']}-drill"


def mongodb_check(drill: dict[str, Any]) -> list[dict[str, str]]:
    """MongoDB's check, for mongosh to read as data: the collection, the filter as Extended JSON
    (in the catalog's key order: a query document's order can matter), the least count."""
    return [{"name": "DRILL_COLLECTION", "value": drill["collection"]},
            {"name": "DRILL_FILTER", "value": json.dumps(drill["filter"] or {}, ensure_ascii=False, separators=(",", ":"))},
            {"name": "DRILL_AT_LEAST", "value": str(drill["atLeast"])}]


def _own_env() -> list[dict[str, Any]]:
    return [{"name": "DRILL_DIR", "value": DIR}, {"name": "HOME", "value": "/tmp"}]


def step(step_name: str, image: str, command: list[str], env: list[dict[str, Any]]) -> dict[str, Any]:
    """An init container that runs one of the drill's scripts before its check, on the same
    scratch volume (what it leaves there is the check's input)."""
    mounts = [{"name": "scripts", "mountPath": "/scripts", "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"},
              {"name": "scratch", "mountPath": DIR}]
    return {"name": step_name, "image": image, "command": command, "env": env + _own_env(), "volumeMounts": mounts,
            "securityContext": SECURITY}


def components(cluster: dict[str, Any], scripts: list[tuple[str, str]], *, image: str, command: list[str], uid: int,
               env: list[dict[str, Any]], mounts: list[dict[str, Any]], volumes: list[dict[str, Any]],
               identity: Identity | None, ephemeral: bool, init_containers: list[dict[str, Any]] | None = None,
               files: dict[str, str] | None = None, alert: bool = False) -> list[Component]:
    """The drill's ConfigMap (``scripts``: (key, template asset) pairs; ``files``: key and text;
    the check query, when it is SQL) and CronJob.  ``ephemeral``: the scratch volume is a claim of
    the cluster's size and class (a database server's copy), else an emptyDir limited to that size.
    ``alert``: a rule of its own that fires when drills stop passing (engines whose entries have
    no backup rule to add it to)."""
    drill, namespace = cluster["backup"]["drill"], cluster["namespace"]
    files = dict(files or {})
    if drill["query"]:
        files["drill-check.sql"] = drill["query"].strip().rstrip(";") + "\n"
    return [
        Component("common/drill-configmap.yaml.j2",
                  {"name": name(cluster), "namespace": namespace, "scripts": scripts, "files": files}, "drill", WAVE_CONFIG),
        Component(
            "common/drill-cronjob.yaml.j2",
            {
                "name": name(cluster),
                "namespace": namespace,
                "schedule": drill["schedule"],
                "deadline": DEADLINE,
                "kept": KEPT,
                "image": image,
                "command": command,
                "uid": uid,
                "identity": identity,
                "env": env + _own_env(),
                "mounts": mounts,
                "volumes": volumes,
                "drill_dir": DIR,
                "ephemeral": ephemeral,
                "storage": {"size": cluster["storage"]["size"], "class": cluster["storage"]["class"]},
                "resources": guaranteed(cluster["resources"]),
                "node_selector": cluster["scheduling"]["nodeSelector"],
                "tolerations": tolerations(cluster),
                "init_containers": init_containers or [],
                "security": SECURITY,
            },
            "drill",
            WAVE_DEPENDENT,
        ),
        *([alerts.dumps(namespace, cluster["name"], [(name(cluster), drill["schedule"], "RestoreDrill", "restore drill")])]
          if alert else []),
    ]
