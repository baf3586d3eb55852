"""The JSON Schema of the catalog format (DESIGN §3); ``dbfleet schema`` prints it for editors.

Formats that need a clear message of their own (DNS-1123 names, cron, quantities, durations,
references) are checked by the rules in ``renderer.rules``, not here.
"""
from __future__ import annotations

from typing import Any

API_VERSION = "dbfleet.dev/v1alpha1"
ENGINES = ["postgresql", "mysql", "mongodb", "kafka", "sqlite"]
SERVER_ENGINES = ["postgresql", "mysql"]

Schema = dict[str, Any]


def obj(properties: Schema, required: tuple[str, ...] = (), **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def string(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def listof(item: Schema) -> Schema:
    return {"type": "array", "items": item}


def string_map() -> Schema:
    return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}


OFF = {"type": "boolean", "default": False}
DEFAULT_NAMESPACE = "databases"
# An entry's namespace: its own, else defaults.namespace, else this.
NAMESPACE = {"type": "string", "default": DEFAULT_NAMESPACE}
QUANTITY = {"type": ["string", "integer", "number"]}
MONITORING = obj({"enabled": OFF, "pmmServer": string()})


def backup(default_method: str) -> Schema:
    # Backup settings given take the engine's method; none at all (and no fleet default) mean no
    # backups, which the backups rule warns about.
    return obj(
        {
            "method": {"enum": ["native", "dump", "none"], "default": default_method},
            "schedule": string(),
            "retention": string(),
            "store": string(),
            "pitr": OFF,
        },
        default={"method": "none"},
    )


CLUSTER_BACKUP = backup("native")
DATABASE_BACKUP = backup("dump")
STORAGE = obj(
    {
        "size": QUANTITY,
        "class": string(),
        "accessMode": {"enum": ["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"]},
    }
)
RESOURCES = obj({"cpu": QUANTITY, "memory": QUANTITY})
POOLER = obj(
    {
        "enabled": OFF,
        "replicas": {"type": "integer", "minimum": 1, "default": 2},
        "mode": {"enum": ["session", "transaction", "statement"], "default": "session"},
        "parameters": string_map(),
    }
)
SCHEDULING = obj(
    {
        "antiAffinity": {"enum": ["required", "preferred", "none"], "default": "preferred"},
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
        "tolerations": listof(
            obj(
                {
                    "key": string(),
                    "operator": {"enum": ["Exists", "Equal"]},
                    "value": string(),
                    "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
                    "tolerationSeconds": {"type": "integer"},
                }
            )
        ),
    }
)
PROXY = obj({"enabled": OFF, "deploymentId": string()})
TLS = obj({"enabled": OFF})
RESTORE = obj(
    {"fromStore": string(), "sourceCluster": string(), "backup": string(), "pointInTime": string()},
    required=("fromStore",),
)
CLUSTER_DATABASE = obj(
    {"name": string(), "owner": string(), "extensions": listof(string())}, required=("name",)
)

CLUSTER = obj(
    {
        "name": string(),
        "engine": {"enum": ENGINES},
        "namespace": NAMESPACE,
        "version": string(),
        "replicas": {"type": "integer", "minimum": 1, "default": 1},
        "storage": STORAGE,
        "resources": RESOURCES,
        "parameters": string_map(),
        "pooler": POOLER,
        "monitoring": MONITORING,
        "scheduling": SCHEDULING,
        "backup": CLUSTER_BACKUP,
        "restore": RESTORE,
        "proxy": PROXY,
        "tls": TLS,
        "databases": listof(CLUSTER_DATABASE),
        "kafka": obj(
            {
                "controllers": {"type": "integer", "minimum": 1},
                "metadataVersion": string(),
            }
        ),
        "topics": listof(
            obj(
                {
                    "name": string(),
                    "partitions": {"type": "integer", "minimum": 1, "default": 3},
                    "replicas": {"type": "integer", "minimum": 1},
                    "config": string_map(),
                },
                required=("name",),
            )
        ),
        "users": listof(
            obj(
                {
                    "name": string(),
                    "authentication": {"enum": ["scram-sha-512", "tls"], "default": "scram-sha-512"},
                    "read": listof(string()),
                    "write": listof(string()),
                    "groups": listof(string()),
                },
                required=("name",),
            )
        ),
        "sharding": obj(
            {
                "enabled": OFF,
                "mongos": {"type": "integer", "minimum": 1, "default": 2},
                "configServers": {"type": "integer", "minimum": 1, "default": 3},
            }
        ),
        "sqlite": obj(
            {
                "file": string(default="app.db"),
                "initSQL": string(),
                "attachTo": obj(
                    {"kind": {"enum": ["Deployment", "StatefulSet"]}, "name": string()},
                    required=("kind", "name"),
                ),
            }
        ),
        "rest": obj({"enabled": OFF, "allowedTables": listof(string()), "authSecret": string()}),
        "ingress": obj({"host": string(), "tlsSecret": string()}, required=("host",)),
    },
    required=("name", "engine"),
)

S3 = obj(
    {
        "bucket": string(),
        "region": string(),
        "endpoint": string(),
        "path": string(),
        "credentialsSecret": string(),
    },
    required=("bucket",),
)
GCS = obj({"bucket": string(), "path": string(), "credentialsSecret": string()}, required=("bucket",))
AZURE = obj(
    {"container": string(), "storageAccount": string(), "path": string(), "credentialsSecret": string()},
    required=("container", "storageAccount"),
)
VOLUME = obj({"claim": string(), "path": string(), "size": QUANTITY, "class": string()}, required=("claim",))
BACKUP_STORE = obj(
    {"name": string(), "s3": S3, "gcs": GCS, "azure": AZURE, "volume": VOLUME},
    required=("name",),
    minProperties=2,
    maxProperties=2,
)

SERVER = obj(
    {
        "name": string(),
        "engine": {"enum": SERVER_ENGINES},
        "host": string(),
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "adminSecret": string(),
        "tls": obj(
            {
                "mode": {"enum": ["disable", "require", "verify-ca", "verify-full"]},
                "caSecret": string(),
                "clientSecret": string(),  # a kubernetes.io/tls Secret: a client certificate
            }
        ),
    },
    required=("name", "engine", "host", "adminSecret"),
)
DATABASE = obj(
    {
        "name": string(),
        "on": string(),
        "namespace": NAMESPACE,
        "owner": string(),
        "credentialsSecret": string(),
        "extensions": listof(string()),
        "backup": DATABASE_BACKUP,
        "restore": obj({"fromStore": string(), "dump": string()}, required=("fromStore",)),
        "proxy": PROXY,
    },
    required=("name", "on"),
)
VCLUSTER = obj(
    {
        "name": string(),
        "namespace": string(),  # default: vcluster-<name>
        "database": string(),
        "chartVersion": string(default="0.36.1"),
        "identityProvider": {"enum": ["aws"]},
        "values": {"type": "object"},
    },
    required=("name", "database"),
)

SPEC_PROPERTIES: Schema = {
    "defaults": obj(
        {
            "namespace": string(default=DEFAULT_NAMESPACE),
            "backup": CLUSTER_BACKUP,
            "storage": STORAGE,
            "resources": RESOURCES,
            "monitoring": MONITORING,
            "scheduling": SCHEDULING,
            "pooler": POOLER,
            "proxy": PROXY,
            "tls": TLS,
        }
    ),
    "backupStores": listof(BACKUP_STORE),
    "clusters": listof(CLUSTER),
    "servers": listof(SERVER),
    "databases": listof(DATABASE),
    "vclusters": listof(VCLUSTER),
    "proxy": obj(
        {
            "enabled": OFF,
            "namespace": string(default="xdatabase-proxy"),
            "image": string(default="ghcr.io/hasirciogluhq/xdatabase-proxy:v2.0.0"),
            "replicas": {"type": "integer", "minimum": 1, "default": 2},
            "databaseType": {"enum": ["postgresql", "mysql", "mongodb"], "default": "postgresql"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432},
            "host": string(),  # how clients reach it; default: the Service's cluster DNS name
            "tlsSecret": string(default="xdatabase-proxy-tls"),
            "resources": RESOURCES,
        }
    ),
    "secrets": obj(
        {
            "provider": {"enum": ["external-secrets", "existing"]},
            "store": obj(
                {"kind": {"enum": ["SecretStore", "ClusterSecretStore"]}, "name": string()},
                required=("kind", "name"),
            ),
        },
        required=("provider",),
        **{"if": {"properties": {"provider": {"const": "external-secrets"}}}, "then": {"required": ["store"]}},
    ),
    "gitops": obj(
        {
            "engine": {"enum": ["argocd", "flux"]},
            "repoURL": string(),
            "revision": string(default="main"),
            "path": string(default="rendered"),
            "namespace": string(),
            "project": string(default="default"),
            "interval": string(default="1m"),
        },
        required=("engine", "repoURL"),
    ),
}


def _document(kind: str, spec: Schema) -> Schema:
    return obj(
        {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": obj({"name": string()}, required=("name",)),
            "spec": spec,
        },
        required=("apiVersion", "kind", "metadata", "spec"),
    )


def _relaxed(schema: Any) -> Any:
    """An overlay's shape: like the spec, but nothing is required and ``null`` removes."""
    if isinstance(schema, dict):
        out = {k: _relaxed(v) for k, v in schema.items() if k not in ("required", "minProperties")}
        if "type" in out or "enum" in out:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(schema, list):
        return [_relaxed(s) for s in schema]
    return schema


CATALOG_SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dbfleet.dev/schemas/catalog-v1alpha1.json",
    "title": "dbfleet catalog",
    **_document("Catalog", obj(SPEC_PROPERTIES)),
}

OVERLAY_SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dbfleet.dev/schemas/overlay-v1alpha1.json",
    "title": "dbfleet overlay",
    **_document("Overlay", _relaxed(obj(SPEC_PROPERTIES))),
}

# Overlay entries of named lists must still carry their name to be merged.
for _key in ("backupStores", "clusters", "servers", "databases", "vclusters"):
    OVERLAY_SCHEMA["properties"]["spec"]["anyOf"][0]["properties"][_key]["anyOf"][0]["items"][
        "anyOf"
    ][0]["required"] = ["name"]
