"""MySQL on the Percona Operator for MySQL based on Percona XtraDB Cluster 1.20.0."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.components import (
    WAVE_CLUSTER,
    Component,
    Fleet,
    on_demand_backup,
    guaranteed,
    owner,
    proxy_services,
    role_secret,
    role_secrets,
    tolerations,
)
from renderer import versions
from renderer.engines import percona
from renderer.locations import PXC_BACKUP_NAME, entry_identity

CR_VERSION = "1.20.0"
PORT = 3306
PITR_UPLOAD_SECONDS = 60



def storage(store: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A ``backup.storages`` entry for a folder of a catalog backup store."""
    if store["s3"]:
        s3 = store["s3"]
        settings = {"bucket": s3["bucket"], "prefix": prefix, "credentialsSecret": s3["credentialsSecret"],
                    "region": s3["region"], "endpointUrl": s3["endpoint"]}
        return {"type": "s3", "verifyTLS": True, "s3": percona.given(settings)}
    if store["azure"]:
        azure = store["azure"]
        settings = {"container": azure["container"], "prefix": prefix, "credentialsSecret": azure["credentialsSecret"]}
        return {"type": "azure", "azure": percona.given(settings)}
    volume = store["volume"]
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": str(volume["size"])}}}
    if volume["class"]:
        claim["storageClassName"] = volume["class"]
    return {"type": "filesystem", "volume": {"persistentVolumeClaim": claim}}


def source_cluster(cluster: dict[str, Any]) -> str:
    """The cluster whose backup a restore reads: the one named, else the one the backup's name
    names (PXC names backups <cluster>-YYYY-MM-DD-hh:mm:ss-full), else this one."""
    restore = cluster["restore"]
    if not restore:
        return str(cluster["name"])
    named = PXC_BACKUP_NAME.match(restore["backup"] or "")
    return str(restore["sourceCluster"] or (named and named.group(1)) or cluster["name"])


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    name, namespace = cluster["name"], cluster["namespace"]
    backup, pooler = cluster["backup"], cluster["pooler"]
    source = source_cluster(cluster)
    storages = percona.storages(cluster, fleet, storage, source)
    owners = sorted({owner(db) for db in cluster["databases"]})
    yield from role_secrets(fleet, namespace, name, owners)
    users = [
        {
            "name": role,
            "dbs": [db["name"] for db in cluster["databases"] if owner(db) == role],
            "hosts": ["%"],
            "grants": ["ALL"],
            "passwordSecretRef": {"name": role_secret(name, role), "key": "password"},
        }
        for role in owners
    ]
    identity = entry_identity(cluster, fleet.stores)
    build = versions.resolve("mysql", cluster["version"])
    line = versions.ENGINES["mysql"].line(build)
    yield Component(
        "mysql/perconaxtradbcluster.yaml.j2",
        {
            "cluster": cluster,
            "namespace": namespace,
            "cr_version": CR_VERSION,
            "image": versions.image("mysql", cluster["version"]),
            "configuration": percona.config_file("mysqld", cluster["parameters"]),
            "resources": guaranteed(cluster["resources"]),
            "affinity": percona.anti_affinity(cluster, "pxc"),
            "tolerations": tolerations(cluster),
            "volume_claim": percona.volume_claim(cluster["storage"]),
            "haproxy": pooler["enabled"] and {
                "size": pooler["replicas"],
                "image": versions.helper("pxc-haproxy"),
                "affinity": percona.anti_affinity(cluster, "haproxy"),
            },
            "pmm": percona.pmm(cluster, versions.helper("pxc-pmm-client")),
            "backup": {
                "image": versions.helper(f"pxc-xtrabackup-{line}"),  # XtraBackup follows the server's line
                # Backup jobs and the binlog collector run as spec.backup.serviceAccountName
                # (pkg/pxc/backup/job.go, pkg/pxc/app/binlogcollector at v1.19.0).
                "service_account": identity.account if identity else None,
                "storages": storages,
                "schedule": percona.scheduled(backup),
                "pitr": backup["method"] == "native" and backup["pitr"] and {
                    "enabled": True,
                    "storageName": backup["store"],
                    "timeBetweenUploads": PITR_UPLOAD_SECONDS,
                },
            } if storages else None,
            "users": users,
        },
        "database",
        WAVE_CLUSTER,
        holds_data=True,
    )
    yield from on_demand_backup("mysql/perconaxtradbclusterbackup.yaml.j2", cluster, storage=backup["store"])
    yield from percona.restore("mysql/perconaxtradbclusterrestore.yaml.j2", cluster, fleet, storage, {}, source)
    yield from proxy_services(
        cluster,
        "mysql",
        PORT,
        {"app.kubernetes.io/instance": name, "app.kubernetes.io/component": "pxc"},
        {"app.kubernetes.io/instance": name, "app.kubernetes.io/component": "haproxy"} if pooler["enabled"] else None,
    )
