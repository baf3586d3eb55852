"""MongoDB on the Percona Operator for MongoDB 1.22.0: replica set rs0, mongos when sharded."""
from __future__ import annotations

from typing import Any, Iterator

from renderer import emit
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
    store_credentials,
    tolerations,
)
from renderer.planning.locations import backup_location, entry_identity, store_identity

CR_VERSION = "1.22.0"
PORT = 27017
REPLSET = "rs0"
# Percona Server for MongoDB's images run as mongodb, 1001 (percona-docker's Dockerfile: useradd -u 1001).
MONGOD_UID = 1001


def storage(store: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A ``backup.storages`` entry for a folder of a catalog backup store (Percona Backup for
    MongoDB takes every backup under its prefix for its own: one folder per cluster)."""
    if store["s3"]:
        s3 = store["s3"]
        settings = {"bucket": s3["bucket"], "prefix": prefix, "credentialsSecret": s3["credentialsSecret"],
                    "region": s3["region"], "endpointUrl": s3["endpoint"]}
        return {"type": "s3", "s3": percona.given(settings)}
    if store["gcs"]:
        gcs = store["gcs"]
        return {"type": "gcs", "gcs": percona.given({"bucket": gcs["bucket"], "prefix": prefix, "credentialsSecret": gcs["credentialsSecret"]})}
    azure = store["azure"]
    settings = {"container": azure["container"], "prefix": prefix, "credentialsSecret": azure["credentialsSecret"]}
    return {"type": "azure", "azure": percona.given(settings)}


def mongod_conf(parameters: dict[str, Any] | None) -> str | None:
    """mongod.conf from dotted parameters: ``operationProfiling.mode: slowOp`` nests."""
    if not parameters:
        return None
    tree: dict[str, Any] = {}
    for key, value in parameters.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return emit.dump(tree)


def render(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    name, namespace = cluster["name"], cluster["namespace"]
    backup, sharding = cluster["backup"], cluster["sharding"]
    source = (cluster["restore"] or {}).get("sourceCluster") or cluster["name"]
    storages = percona.storages(cluster, fleet, storage, source)
    task = percona.scheduled(backup)
    owners = sorted({owner(db) for db in cluster["databases"]})
    yield from role_secrets(fleet, namespace, name, owners)
    users = [
        {
            "name": role,
            "db": "admin",
            "passwordSecretRef": {"name": role_secret(name, role), "key": "password"},
            "roles": [{"name": "readWrite", "db": db["name"]} for db in cluster["databases"] if owner(db) == role],
        }
        for role in owners
    ]
    volume_claim = percona.volume_claim(cluster["storage"])
    yield Component(
        "mongodb/perconaservermongodb.yaml.j2",
        {
            "cluster": cluster,
            "namespace": namespace,
            "cr_version": CR_VERSION,
            "image": versions.image("mongodb", cluster["version"]),
            "cluster_domain": fleet.cluster_domain,
            "replset": REPLSET,
            "configuration": mongod_conf(cluster["parameters"]),
            "resources": guaranteed(cluster["resources"]),
            "affinity": percona.anti_affinity(cluster, "mongod"),
            "tolerations": tolerations(cluster),
            "volume_claim": volume_claim,
            "sharding": {
                "config_servers": sharding["configServers"],
                "config_affinity": percona.anti_affinity(cluster, "cfg"),
                "mongos": sharding["mongos"],
                "mongos_affinity": percona.anti_affinity(cluster, "mongos"),
            } if sharding["enabled"] else None,
            "pmm": percona.pmm(cluster, versions.helper("psmdb-pmm-client")),
            # PBM's agents run beside mongod: the replica sets' pods use the store's identity.
            "identity": entry_identity(cluster, fleet.stores),
            "backup": {
                "image": versions.helper("psmdb-backup"),
                "storages": storages,
                "pitr": backup["method"] == "native" and backup["pitr"],
                # PBM tasks also say whether they run, and what kind of backup they take.
                "task": {"name": task.pop("name"), "enabled": True, **task, "type": "logical"} if task else None,
            } if storages else None,
            "users": users,
        },
        "database",
        WAVE_CLUSTER,
        holds_data=True,
    )
    yield from on_demand_backup("mongodb/perconaservermongodbbackup.yaml.j2", cluster, storage=cluster["backup"]["store"])
    yield from percona.restore("mongodb/perconaservermongodbrestore.yaml.j2", cluster, fleet, storage, {"type": "logical"}, source)
    # Clients of a sharded cluster go through mongos; of a replica set, to its members.
    component = "mongos" if sharding["enabled"] else "mongod"
    yield from proxy_services(cluster, "mongodb", PORT, {"app.kubernetes.io/instance": name, "app.kubernetes.io/component": component}, None)
    if backup["method"] == "native" and backup["drill"]:
        yield from _drill(cluster, fleet)


def _drill(cluster: dict[str, Any], fleet: Fleet) -> list[Component]:
    """The newest logical backup restored by Percona Backup for MongoDB into a mongod of one member
    in the drill's pod: the cluster's own image, with pbm and pbm-agent lent by PBM's image, as
    the operator lends them to mongod's pods for a physical restore
    (pkg/controller/perconaservermongodbrestore/physical.go, prepareStatefulSetForPhysicalRestore).
    No scratch cluster, no Kubernetes API.  S3 stores only (the rules say why): PBM's
    configuration names the folder the cluster's backups go to, and no keys; PBM takes them
    from the environment or the pod's identity, as the AWS SDK does (pbm/storage/s3/s3.go at
    v2.12.0, buildLoadOptions and s3client)."""
    store_name = cluster["backup"]["store"]
    store, drill = fleet.stores[store_name], cluster["backup"]["drill"]
    settings = storage(store, backup_location(store, fleet.env, cluster["name"]).path)["s3"]
    config = {"storage": {"type": "s3", "s3": {key: value for key, value in settings.items() if key != "credentialsSecret"}}}
    keys, _, _ = store_credentials(store, {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"}, "")
    lend = drills.step("pbm", versions.helper("psmdb-backup"), ["cp", "/usr/bin/pbm", "/usr/bin/pbm-agent", drills.DIR], [])
    database = drill["database"] or cluster["databases"][0]["name"]  # the rules ask for one
    env = [{"name": "CLUSTER", "value": cluster["name"]}, {"name": "REPLSET", "value": REPLSET},
           {"name": "DB_NAME", "value": database}, *drills.mongodb_check(drill), *keys]
    scripts = [("drill.sh", "mongodb/drill.sh"), ("drill-check.js", "mongodb/drill-check.js"),
               ("drill-report.sh", "databases/drill-report.sh")]
    return drills.components(cluster, scripts, image=versions.image("mongodb", cluster["version"]),
                             command=["bash", "/scripts/drill.sh"], uid=MONGOD_UID, env=env, mounts=[], volumes=[],
                             identity=store_identity(store_name, store), ephemeral=True, init_containers=[lend],
                             files={"pbm-config.yaml": emit.dump(config)}, alert=cluster["monitoring"]["enabled"])
