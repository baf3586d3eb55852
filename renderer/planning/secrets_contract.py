"""Every Secret the rendered fleet reads and does not create: the contract with whoever runs the
secret store.  Read off the rendered objects themselves, so it lists what the workloads and the
operators will really look up (name, namespace, keys), and who reads each one."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from renderer.planning.components import role_secret
from renderer.planning.locations import STORE_SECRET_KEYS

ALL_KEYS = "*"  # a Secret mounted whole, or read whole through envFrom
TLS_KEYS = ("tls.crt", "tls.key")
# What the Percona operators read from a storage's credentialsSecret, by storage type.
STORAGE_KEYS = {"s3": tuple(STORE_SECRET_KEYS["s3"].values()), "azure": tuple(STORE_SECRET_KEYS["azure"].values()),
                "gcs": (STORE_SECRET_KEYS["gcs"]["clientEmail"], STORE_SECRET_KEYS["gcs"]["privateKey"])}
BASIC_AUTH = ("username", "password")


@dataclass
class SecretNeed:
    namespace: str
    name: str
    keys: set[str] = field(default_factory=set)
    readers: set[str] = field(default_factory=set)

    purpose: list[str] = field(default_factory=list)  # what the catalog made it for

    def as_json(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "keys": sorted(self.keys), "readers": sorted(self.readers),
                "for": self.purpose}


def references(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(Secret name, key) for each Secret an object makes something read."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    yield from _walk(spec, kind)
    if kind == "Cluster":  # CloudNativePG managed roles: basic-auth Secrets
        for role in (spec.get("managed") or {}).get("roles") or []:
            if role.get("passwordSecret"):
                yield from ((role["passwordSecret"]["name"], key) for key in BASIC_AUTH)
    if kind == "HelmRelease":
        for source in spec.get("valuesFrom") or []:
            if source.get("kind") == "Secret":
                yield source["name"], source.get("valuesKey", "values.yaml")


def _walk(node: Any, kind: object, parent: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, kind, parent)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("secretKeyRef"), dict):  # a container's env
        yield node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]
    if isinstance(node.get("secretRef"), dict):  # envFrom
        yield node["secretRef"]["name"], ALL_KEYS
    if isinstance(node.get("secretName"), str):  # a volume, or an Ingress's TLS
        items = [item["key"] for item in node.get("items") or []]
        keys = TLS_KEYS if parent == "tls" else (items or [ALL_KEYS])
        yield from ((node["secretName"], key) for key in keys)
    if parent == "sources" and isinstance(node.get("secret"), dict):  # a projected volume
        items = [item["key"] for item in node["secret"].get("items") or []] or [ALL_KEYS]
        yield from ((node["secret"]["name"], key) for key in items)
    if isinstance(node.get("credentialsSecret"), str) and parent in STORAGE_KEYS:  # Percona storages
        yield from ((node["credentialsSecret"], key) for key in STORAGE_KEYS[parent])
    if isinstance(node.get("passwordSecretRef"), dict):  # Percona users
        ref = node["passwordSecretRef"]
        yield ref["name"], ref.get("key", "password")
    if parent.endswith("Credentials"):  # barman-cloud ObjectStore: {accessKeyId: {name, key}, ...}
        for value in node.values():
            if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("key"), str):
                yield value["name"], value["key"]
    for key, value in node.items():
        if key not in ("secretKeyRef", "secretRef"):
            yield from _walk(value, kind, key)


def created(obj: dict[str, Any]) -> list[str]:
    """The Secrets an object makes, or makes an operator make: External Secrets' targets, and what
    each operator generates for its cluster (users, certificates)."""
    kind, name, spec = obj.get("kind"), str(obj["metadata"]["name"]), obj.get("spec") or {}
    if kind == "ExternalSecret":
        return [str((spec.get("target") or {}).get("name") or name)]
    if kind in ("Secret", "SealedSecret", "KafkaUser"):
        return [name]
    if kind == "PerconaXtraDBCluster":
        return [spec.get("secretsName") or f"{name}-secrets", f"{name}-ssl", f"{name}-ssl-internal"]
    if kind == "PerconaServerMongoDB":
        return [(spec.get("secrets") or {}).get("users") or f"{name}-secrets", f"{name}-ssl", f"{name}-ssl-internal"]
    if kind == "Cluster":  # CloudNativePG
        return [f"{name}-{suffix}" for suffix in ("app", "superuser", "ca", "server", "replication")]
    if kind == "Kafka":
        return [f"{name}-cluster-ca-cert", f"{name}-clients-ca-cert"]
    return []


def _namespace(obj: dict[str, Any]) -> str:
    """Where the Secrets an object makes something read must be: a chart's objects go to the
    namespace it is installed in."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Application":
        return str((spec.get("destination") or {}).get("namespace", ""))
    if obj.get("kind") == "HelmRelease" and spec.get("targetNamespace"):
        return str(spec["targetNamespace"])
    return str((obj.get("metadata") or {}).get("namespace", ""))


def needs(objects: Iterable[tuple[str, dict[str, Any]]]) -> list[SecretNeed]:
    """The Secrets ``objects`` (path, data) read and do not make, by namespace and name."""
    made: set[tuple[str, str]] = set()
    found: dict[tuple[str, str], SecretNeed] = {}
    for path, obj in objects:
        made.update((str(obj["metadata"].get("namespace", "")), name) for name in created(obj))
        namespace = _namespace(obj)
        for secret, key in references(obj):
            need = found.setdefault((namespace, secret), SecretNeed(namespace, secret))
            need.keys.add(key)
            need.readers.add(path)
    return [need for where, need in sorted(found.items()) if where not in made]


def belongs_to(spec: dict[str, Any]) -> dict[str, list[str]]:
    """What each Secret the catalog names is for: a store's keys, a server's admin, an owner's password."""
    found: dict[str, list[str]] = {}

    def add(name: object, what: str) -> None:
        if isinstance(name, str):
            found.setdefault(name, []).append(what)

    for store in spec.get("backupStores") or []:
        kind = next(k for k in ("s3", "gcs", "azure", "volume") if store.get(k))
        add(store[kind].get("credentialsSecret"), f"backup store {store['name']} ({kind})")
    for server in spec.get("servers") or []:
        add(server["adminSecret"], f"server {server['name']}: admin credentials")
        tls = server.get("tls") or {}
        add(tls.get("caSecret"), f"server {server['name']}: CA certificate")
        add(tls.get("clientSecret"), f"server {server['name']}: client certificate")
    for database in spec.get("databases") or []:
        add(database.get("credentialsSecret") or database["name"], f"database {database['name']}: owner's credentials")
    for cluster in spec.get("clusters") or []:
        owners = {str(db.get("owner") or db["name"]) for db in cluster.get("databases") or []}
        for owner in sorted(owners):
            add(role_secret(cluster["name"], owner), f"cluster {cluster['name']}: role {owner}'s password")
        add((cluster.get("rest") or {}).get("authSecret"), f"cluster {cluster['name']}: sqlite-rest token")
        add((cluster.get("ingress") or {}).get("tlsSecret"), f"cluster {cluster['name']}: Ingress certificate")
    for vcluster in spec.get("vclusters") or []:
        add(f"{vcluster['name']}-datasource", f"vCluster {vcluster['name']}: data source")
    return found
