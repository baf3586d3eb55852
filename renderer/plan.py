"""What to render for each catalog entry: templates, their context, and how to label them.

Works on the normalised, plain spec of one environment (every schema property present), so the
decisions live here in Python and the templates only lay values out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

CNPG_IMAGE = "ghcr.io/cloudnative-pg/postgresql"
PG_PORT = 5432

# Sync waves: namespaces, then configuration and secrets, clusters, then what uses a cluster.
WAVE_NAMESPACE = -2
WAVE_CONFIG = -1
WAVE_CLUSTER = 0
WAVE_DEPENDENT = 1


@dataclass(frozen=True)
class Fleet:
    """What every entry's plan may need beyond the entry itself."""

    name: str
    env: str
    stores: dict[str, dict[str, Any]]
    secrets: dict[str, Any] | None


@dataclass(frozen=True)
class Component:
    template: str
    context: dict[str, Any]
    component: str  # app.kubernetes.io/component
    wave: int
    holds_data: bool = False


@dataclass(frozen=True)
class Unit:
    """One folder of output: an entry in a namespace, a namespace itself, or the gitops objects."""

    folder: tuple[str, ...]
    app: str  # app.kubernetes.io/name
    instance: str  # app.kubernetes.io/instance
    components: tuple[Component, ...]


def _parameters(values: dict[str, Any] | None) -> dict[str, str]:
    """PostgreSQL settings are strings in CloudNativePG; booleans read best as on/off."""
    out = {}
    for key, value in (values or {}).items():
        out[key] = ("on" if value else "off") if isinstance(value, bool) else str(value)
    return out


def _quantity(value: Any) -> str | None:
    return None if value is None else str(value)


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


def _owner(database: dict[str, Any]) -> str:
    """A database without an owner gets a role of its own name, never the superuser."""
    return str(database["owner"] or database["name"])


def object_store_name(cluster: str, store: str) -> str:
    return f"{cluster}-{store}"


def role_secret(cluster: str, role: str) -> str:
    return f"{cluster}-{role.replace('_', '-')}"


def _role_secrets(fleet: Fleet, namespace: str, cluster: str, roles: list[str]) -> Iterator[Component]:
    """With External Secrets, the Secrets that hold the roles' passwords; never the passwords."""
    if not fleet.secrets or fleet.secrets["provider"] != "external-secrets":
        return
    for role in roles:
        yield Component(
            "common/role-externalsecret.yaml.j2",
            {
                "namespace": namespace,
                "secret_name": role_secret(cluster, role),
                "store": fleet.secrets["store"],
                "role": role,
                "remote_key": f"{fleet.name}/{fleet.env}/{cluster}/{role}",
            },
            "credentials",
            WAVE_CONFIG,
            holds_data=True,
        )


def postgresql(cluster: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
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
    resources = None
    if cluster["resources"]["cpu"] is not None or cluster["resources"]["memory"] is not None:
        amounts = {
            k: _quantity(v) for k, v in (("cpu", cluster["resources"]["cpu"]), ("memory", cluster["resources"]["memory"])) if v is not None
        }
        # Requests equal to limits: the Guaranteed QoS class CloudNativePG recommends.
        resources = {"requests": amounts, "limits": amounts}
    owners = sorted({_owner(db) for db in cluster["databases"]})
    yield from _role_secrets(fleet, namespace, name, owners)
    roles = [{"name": owner, "secret": role_secret(name, owner)} for owner in owners]
    yield Component(
        "postgresql/cluster.yaml.j2",
        {
            **base,
            "cluster": {**cluster, "parameters": _parameters(cluster["parameters"])},
            "image": f"{CNPG_IMAGE}:{cluster['version']}",
            "tls": cluster["tls"]["enabled"],
            "resources": resources,
            "anti_affinity": cluster["scheduling"]["antiAffinity"],
            # Normalisation filled every toleration field; Kubernetes wants only those given.
            "tolerations": [{k: v for k, v in t.items() if v is not None} for t in cluster["scheduling"]["tolerations"]],
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
            {**base, "pooler_name": f"{name}-pooler", "cluster": {**cluster, "pooler": {**pooler, "parameters": _parameters(pooler["parameters"])}}},
            "pooler",
            WAVE_DEPENDENT,
        )
    for database in cluster["databases"]:
        yield Component(
            "postgresql/database.yaml.j2",
            {
                **base,
                "database": database,
                "owner": _owner(database),
                "resource_name": f"{name}-{database['name'].replace('_', '-')}",
            },
            "database",
            WAVE_DEPENDENT,
        )
    if cluster["monitoring"]["enabled"]:
        yield Component("postgresql/podmonitor.yaml.j2", base, "monitoring", WAVE_DEPENDENT)
    proxy = cluster["proxy"]
    if proxy["enabled"]:
        deployment_id = proxy["deploymentId"] or name
        services = [(f"{name}-proxy", {"cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary"}, False)]
        if pooler["enabled"]:
            services.append((f"{name}-pooler-proxy", {"cnpg.io/poolerName": f"{name}-pooler"}, True))
        for service_name, selector, pooled in services:
            yield Component(
                "common/proxy-service.yaml.j2",
                {
                    "namespace": namespace,
                    "service_name": service_name,
                    "deployment_id": deployment_id,
                    "database_type": "postgresql",
                    "pooled": pooled,
                    "selector": selector,
                    "port": PG_PORT,
                    "port_name": "postgresql",
                },
                "proxy",
                WAVE_DEPENDENT,
            )


ENGINES = {"postgresql": postgresql}


def plan(spec: dict[str, Any], fleet: str, env: str) -> list[Unit]:
    """Every folder of one environment's output, in a stable order."""
    stores = {store["name"]: store for store in spec.get("backupStores") or []}
    context = Fleet(fleet, env, stores, spec.get("secrets"))
    units: list[Unit] = []
    namespaces: set[str] = set()
    for cluster in spec.get("clusters") or []:
        namespaces.add(cluster["namespace"])
        units.append(
            Unit(
                (cluster["namespace"], cluster["name"]),
                cluster["engine"],
                cluster["name"],
                tuple(ENGINES[cluster["engine"]](cluster, context)),
            )
        )
    for namespace in sorted(namespaces):
        units.append(
            Unit(
                (namespace,),
                "namespace",
                namespace,
                (Component("common/namespace.yaml.j2", {"namespace": namespace}, "namespace", WAVE_NAMESPACE, holds_data=True),),
            )
        )
    gitops = spec.get("gitops")
    if gitops:
        units.append(Unit(("gitops",), "gitops", f"{fleet}-{env}", tuple(_gitops(gitops, fleet, env))))
    return units


def _gitops(gitops: dict[str, Any], fleet: str, env: str) -> Iterator[Component]:
    context = {"gitops": gitops, "name": f"{fleet}-{env}", "path": f"{gitops['path'].strip('/')}/{env}"}
    if gitops["engine"] == "argocd":
        yield Component("gitops/application.yaml.j2", {**context, "namespace": gitops["namespace"] or "argocd"}, "gitops", 0)
    else:
        flux = {**context, "namespace": gitops["namespace"] or "flux-system"}
        yield Component("gitops/gitrepository.yaml.j2", flux, "gitops", 0)
        yield Component("gitops/kustomization.yaml.j2", flux, "gitops", 0)
