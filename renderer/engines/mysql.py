"""MySQL on the Percona Operator for MySQL based on Percona XtraDB Cluster 1.20.0."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.engines import drills, percona
from renderer.kube import versions
from renderer.planning.components import (
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
from renderer.planning.locations import PXC_BACKUP_NAME, STORE_SECRET_KEYS, backup_location, entry_identity

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
    if backup["method"] == "native" and backup["drill"]:
        yield from _drill(cluster, fleet, versions.helper(f"pxc-xtrabackup-{line}"))
    yield from proxy_services(
        cluster,
        "mysql",
        PORT,
        {"app.kubernetes.io/instance": name, "app.kubernetes.io/component": "pxc"},
        {"app.kubernetes.io/instance": name, "app.kubernetes.io/component": "haproxy"} if pooler["enabled"] else None,
    )


# PXC's images run as mysql, 1001: the operator's default pod security context
# (pkg/apis/pxc/v1/pxc_types.go at v1.19.0, setPodSecurityContext).
MYSQL_UID = 1001


def _drill(cluster: dict[str, Any], fleet: Fleet, xtrabackup_image: str) -> list[Component]:
    """The newest backup fetched and prepared by an init container in the XtraBackup image (which
    carries xbcloud and the aws CLI, as the operator's restores use them), then started by the
    cluster's own mysqld in the drill's pod: no scratch cluster, no Kubernetes API.  S3 stores
    with keys only (the rules say why)."""
    store = fleet.stores[cluster["backup"]["store"]]
    s3, drill = store["s3"], cluster["backup"]["drill"]
    secret = s3["credentialsSecret"]
    folder = backup_location(store, fleet.env, cluster["name"])
    # The variables the operator's restore job gives xbcloud (pkg/pxc/backup/restore.go at v1.19.0,
    # s3Envs), and the aws CLI's own.
    keys = [{"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": STORE_SECRET_KEYS["s3"][key]}}}
            for key, names in (("accessKeyId", ("ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")),
                               ("secretAccessKey", ("SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"))) for name in names]
    plain = {"CLUSTER": cluster["name"], "BACKUP_FOLDER": "/".join((folder.bucket, *folder.folder)),
             "ENDPOINT": s3["endpoint"], "DEFAULT_REGION": s3["region"], "AWS_DEFAULT_REGION": s3["region"]}
    fetch = drills.step("restore", xtrabackup_image, ["bash", "/scripts/drill-restore.sh"],
                        [{"name": k, "value": v} for k, v in plain.items() if v] + keys)
    database = drill["database"] or cluster["databases"][0]["name"]  # the rules ask for one
    check_env = {"CLUSTER": cluster["name"], "DB_NAME": database,
                 # mysqld refuses a data dictionary made with another setting (MySQL 8.0 manual, lower_case_table_names).
                 "LOWER_CASE_TABLE_NAMES": str((cluster["parameters"] or {}).get("lower_case_table_names", ""))}
    scripts = [("drill.sh", "mysql/drill.sh"), ("drill-restore.sh", "mysql/drill-restore.sh"),
               ("drill-report.sh", "databases/drill-report.sh")]
    return drills.components(cluster, scripts, image=versions.image("mysql", cluster["version"]),
                             command=["bash", "/scripts/drill.sh"], uid=MYSQL_UID,
                             env=[{"name": k, "value": v} for k, v in check_env.items() if v], mounts=[], volumes=[],
                             identity=None, ephemeral=True, init_containers=[fetch], alert=cluster["monitoring"]["enabled"])
