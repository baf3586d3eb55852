"""Restore drills of a cluster's native backups: a CronJob whose one pod restores the newest backup
into a scratch volume with the engine's own tools, runs the catalog's check query on the copy,
logs one ``dbfleet-drill`` line (templates/databases/drill-report.sh) and removes the copy.  It
needs no Kubernetes API: no token is mounted, and nothing is created but the pod."""
from __future__ import annotations

from typing import Any

from renderer.components import WAVE_CONFIG, WAVE_DEPENDENT, Component, guaranteed, tolerations
from renderer.locations import Identity

DIR = "/var/lib/drill"  # the scratch volume
DEADLINE = 6 * 3600  # seconds a drill may take, restore and replay included
KEPT = 86400  # seconds a finished drill's pod (and its scratch volume) is kept, for its log
SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def name(cluster: dict[str, Any]) -> str:
    return f"{cluster['name']}-drill"


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
               ) -> list[Component]:
    """The drill's ConfigMap (``scripts``: (key, template asset) pairs, and the check query) and
    CronJob.  ``ephemeral``: the scratch volume is a claim of the cluster's size and class (a
    database server's copy), else an emptyDir limited to that size."""
    drill, namespace = cluster["backup"]["drill"], cluster["namespace"]
    check = drill["query"].strip().rstrip(";") + "\n"
    return [
        Component("common/drill-configmap.yaml.j2",
                  {"name": name(cluster), "namespace": namespace, "scripts": scripts, "check": check}, "drill", WAVE_CONFIG),
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
    ]
