"""The JSON Schema of the catalog and overlay formats (DESIGN §3).

``dbfleet schema [--kind Overlay]`` prints them for editors: every field carries a description
(shown on hover), and what JSON Schema can say is said here, so an editor catches most mistakes
before a render does: types, enums, DNS-1123 names, SQL identifiers, quantities, retention
periods, the shape of a cron expression.  A ``pattern`` carries a ``patternErrorMessage`` (read by
VS Code's YAML and JSON support, and by dbfleet's own messages).  What needs the whole catalog
(references, uniqueness, what an operator accepts) is checked by the rules in ``renderer.rules``.
"""
from __future__ import annotations

from typing import Any

API_VERSION = "dbfleet.dev/v1alpha1"
ENGINES = ["postgresql", "mysql", "mongodb", "kafka", "sqlite"]
SERVER_ENGINES = ["postgresql", "mysql"]

Schema = dict[str, Any]


def obj(properties: Schema, required: tuple[str, ...] = (), description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if description:
        schema["description"] = description
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def listof(item: Schema, description: str) -> Schema:
    return {"type": "array", "items": item, "description": description}


def described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def string_map(description: str) -> Schema:
    return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}, "description": description}


def _end(regex: str) -> str:
    # `(?![\s\S])` is the very end of the value in JavaScript and in Python alike; Python's `$`
    # would also match before a final newline.
    return f"^{regex}(?![\\s\\S])"


def pattern(regex: str, title: str, message: str, description: str, **extra: Any) -> Schema:
    """A string of a format: ``title`` names it (editors show it, and the field reference)."""
    return {"type": "string", "title": title, "pattern": _end(regex), "patternErrorMessage": message,
            "description": description, **extra}


DNS_LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN_RE = rf"{DNS_LABEL_RE}(\.{DNS_LABEL_RE})*"
DNS_LABEL_MESSAGE = ("is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or "
                     "digit)")


def dns_label(description: str, **extra: Any) -> Schema:
    return pattern(DNS_LABEL_RE, "DNS-1123 label", DNS_LABEL_MESSAGE, description, maxLength=63, **extra)


def dns_subdomain(description: str, **extra: Any) -> Schema:
    """A Kubernetes object name (a Secret, a Deployment)."""
    return pattern(DNS_SUBDOMAIN_RE, "Kubernetes name",
                   "is not a Kubernetes object name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.')",
                   description, maxLength=253, **extra)


secret_name = dns_subdomain

# A folder in a bucket, on a volume, or in the Git repository: names of letters, digits and
# ._=+@- between slashes, never "." or ".." (rclone, barman and Litestream would climb out of it).
_SEGMENT = r"(?!\.\.?(?:/|(?![\s\S])))[A-Za-z0-9._=+@-]+"
FOLDER_RE = rf"/?{_SEGMENT}(/{_SEGMENT})*/?"


def folder(description: str, **extra: Any) -> Schema:
    return pattern(FOLDER_RE, "folder", "is not a folder path (names of letters, digits and ._=+@- between '/', "
                                        "no '.' or '..')", description, maxLength=1024, **extra)


def file_name(description: str, **extra: Any) -> Schema:
    # Never an option to the program that opens it: no leading '-'.
    return pattern("[A-Za-z0-9][A-Za-z0-9._-]*", "file name", "must be a plain file name (letters, digits, '.', '_', '-')",
                   description, maxLength=255, **extra)


def host(description: str, **extra: Any) -> Schema:
    return pattern(HOST_RE, "host", "is not a host name or an IP address", description, maxLength=253, **extra)


HOST_RE = "[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?"
URL_RE = r"https?://[^\x00-\x20\x7f/?#]+(/[^\x00-\x20\x7f]*)?"
# Kubernetes label keys (an optional DNS prefix, then a name) and values (IsQualifiedName, IsValidLabelValue).
LABEL_NAME_RE = "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
LABEL_KEY_RE = rf"({DNS_SUBDOMAIN_RE}/)?{LABEL_NAME_RE}"
LABEL_VALUE_RE = f"({LABEL_NAME_RE})?"
LABEL_KEY = {"type": "string", "pattern": _end(LABEL_KEY_RE), "maxLength": 317,
             "patternErrorMessage": "is not a label key (an optional DNS prefix and '/', then letters, digits and -_.)"}
LABEL_VALUE = {"type": "string", "pattern": _end(LABEL_VALUE_RE), "maxLength": 63,
               "patternErrorMessage": "is not a label value (at most 63 letters, digits and -_., beginning and ending "
                                      "with a letter or digit)"}
# A Kafka topic, or a prefix of topics or groups ending in '*' (Strimzi ACLs): what Kafka allows.
KAFKA_NAME_RE = r"[a-zA-Z0-9._-]+\*?"
# A container image reference with a tag or a digest (distribution/reference), never :latest alone.
_IMAGE_NAME = r"[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
IMAGE_RE = (rf"([A-Za-z0-9.-]+(:[0-9]+)?/)?{_IMAGE_NAME}"
            r"((:(?!latest(?![\s\S]))[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})")


def sql_identifier(description: str) -> Schema:
    return pattern("[a-z_][a-z0-9_]*", "SQL identifier", "must be a lower-case SQL identifier of at most 63 characters (letters, digits, '_')",
                   description, maxLength=63)


def enum(values: list[Any], description: str, **extra: Any) -> Schema:
    return {"enum": values, "description": description, **extra}


def flag(description: str) -> Schema:
    return {"type": "boolean", "default": False, "description": description}


def count(description: str, minimum: int = 1, **extra: Any) -> Schema:
    return {"type": "integer", "minimum": minimum, "description": description, **extra}


QUANTITY_RE = r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?"


def quantity(description: str) -> Schema:
    return {"type": ["string", "integer", "number"], "title": "quantity", "minimum": 0, "pattern": _end(QUANTITY_RE),
            "patternErrorMessage": "is not a Kubernetes quantity (such as 500m, 2, 20Gi)", "description": description}


# Checked by the formats rule, which says which field is wrong and why.
CRON = string("When backups run: a five-field cron expression (minute hour day-of-month month day-of-week, "
               "in the cluster's time zone, UTC by default), or @hourly, @daily, @weekly, @monthly, @yearly.")
RETENTION = pattern("[1-9][0-9]*[dwm]", "retention period", "is not a retention period (a number of days, weeks or months: 14d, 4w, 6m)",
                    "How long backups are kept: days, weeks or months (14d, 4w, 6m). The Percona operators keep a "
                    "count of backups: dbfleet turns the period into the number of runs the schedule makes in it.")

DEFAULT_NAMESPACE = "databases"
NAMESPACE = dns_label("The Kubernetes namespace of the entry's objects, and the folder of its output. Default: "
                      "defaults.namespace, else 'databases'.", default=DEFAULT_NAMESPACE)
MONITORING = obj(
    {
        "enabled": flag("Scrape the database's metrics: a PodMonitor for the Prometheus operator (PMM for the Percona "
                        "engines)."),
        "pmmServer": host("Percona engines: the PMM server's host (default: monitoring-service)."),
    },
    description="Metrics.",
)


ON_DEMAND = pattern(DNS_LABEL_RE, "backup id", "is not a backup id (lower-case letters, digits and '-', such as "
                    "manual-20261122t093000)", "An on-demand backup: one backup object (CloudNativePG Backup, Percona "
                    "backup, or a Job from the dump CronJob) named <entry>-<id>, created once and never pruned. A new "
                    "id asks for another; dbfleet backup writes one from the time.", maxLength=40)


PASSES = "when the first column of the first row is true (not empty, 0, f, false or NULL)"
# MongoDB has no SQL: its drills count the documents that match a query document, which they read
# as data (Extended JSON), never as code.
MONGODB_CHECK: Schema = {
    "collection": pattern("[A-Za-z_][A-Za-z0-9_.-]*", "collection name", "is not a collection name (letters, digits, "
                          "'_', '.' and '-', not starting with a digit, '.' or '-')",
                          "MongoDB: the collection whose documents the drill counts in the restored copy.", maxLength=120),
    "filter": {"type": "object", "description": "MongoDB: the documents to count, as a query document (Extended JSON "
               "for dates and ids, such as {status: paid, createdAt: {$gte: {$date: \"2026-01-01T00:00:00Z\"}}}); "
               "default: every document. Server-side JavaScript ($where, $function, $accumulator) is refused."},
    "atLeast": {"type": "integer", "minimum": 0, "maximum": 2**53, "default": 1,
                "description": "MongoDB: the drill passes when at least this many documents match."},
}


def backup(default_method: str, what: str, entry: bool = True) -> Schema:
    # Backup settings given take the engine's method; none at all (and no fleet default) mean no
    # backups, which the backups rule warns about.  ``entry``: the settings of one entry, not defaults.
    own = {"onDemand": ON_DEMAND} if entry else {}
    drill_schedule = string("When the drill runs: a five-field cron expression (such as \"0 5 * * 0\"), UTC.")
    if entry and what == "database":
        own["drill"] = obj(
            {"schedule": drill_schedule,
             "query": string("PostgreSQL and MySQL: SQL the drill runs in the restored copy, as the owner, in a "
                             f"read-only transaction: it passes {PASSES}, such as SELECT count(*) > 0 FROM orders.",
                             minLength=1, maxLength=10000),
             **MONGODB_CHECK},
            required=("schedule",),
            description="A restore drill: a CronJob that loads the latest dump into a scratch database on the same "
                        "server, runs the check (PostgreSQL and MySQL: query; MongoDB: collection, filter, atLeast), "
                        "logs how long the restore took and how old the data is, and drops the scratch database.")
    if entry and what == "cluster":
        own["drill"] = obj(
            {"schedule": drill_schedule,
             "query": string("SQL the drill runs in the restored copy, read-only (PostgreSQL: as the database's owner; "
                             f"PostgreSQL and MySQL: in a read-only transaction): it passes {PASSES}, such as SELECT "
                             "count(*) > 0 FROM orders.",
                             minLength=1, maxLength=10000),
             "database": sql_identifier("PostgreSQL, MySQL and MongoDB: the cluster's database the check runs in "
                                        "(default: its first)."),
             **MONGODB_CHECK},
            required=("schedule",),
            description="A restore drill of the native backups: a CronJob restores the newest backup into a scratch "
                        "volume of the cluster's size (PostgreSQL: the base backup and the archived WAL, with "
                        "barman-cloud; MySQL: XtraBackup's backup, prepared; MongoDB: PBM's newest logical backup, "
                        "into a mongod of one member; SQLite: Litestream's replica), runs the check there (SQL: "
                        "query; MongoDB: collection, filter, atLeast), logs how long the restore took and how old "
                        "the restored data is, and removes the copy. It needs no access to the Kubernetes API, and "
                        "writes nothing to the store.")
        own["serverName"] = dns_label("PostgreSQL: the archive's folder in the store (default: the cluster's name). Change "
                                "it with a major upgrade: pg_upgrade starts a new system and timeline, which must not "
                                "archive over the old one (dbfleet upgrade does).")
    return obj(
        {
            **own,
            "method": enum(["native", "dump", "none"],
                           "native: the operator's own backups (barman-cloud, XtraBackup, PBM, Litestream); dump: a "
                           "CronJob that dumps, compresses and uploads with rclone; none: no backups.",
                           default=default_method),
            "schedule": CRON,
            "retention": RETENTION,
            "store": dns_label("The backupStores entry to write to."),
            "pitr": flag("Point-in-time recovery: also upload the operator's transaction logs (binlogs, oplog; "
                         "PostgreSQL archives WAL with every native backup)."),
        },
        description=f"Backups of the {what}. With no backup settings at all (and no defaults.backup), the {what} is "
                    f"rendered without backups, with a warning. Given settings default to method {default_method}.",
        default={"method": "none"},
    )


CLUSTER_BACKUP = backup("native", "cluster")
DEFAULT_BACKUP = backup("native", "cluster", entry=False)
DATABASE_BACKUP = backup("dump", "database")
ALLOW_DESTRUCTIVE = string("Why a destructive change of this entry is intended (such as \"storage shrink: migrated to "
                           "a new volume 2026-12-01\"): dbfleet plan lets it through and shows the reason in the pull "
                           "request. A reason allows the change it is written with: left unchanged, it allows nothing "
                           "more.", minLength=1, maxLength=500)
STORAGE = obj(
    {
        "size": quantity("The size of each instance's data volume (such as 20Gi); needed by every engine."),
        "class": dns_subdomain("The StorageClass of the volumes (default: the cluster's default class)."),
        "accessMode": enum(["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"],
                           "The volume's access mode (default ReadWriteOnce; ReadWriteMany lets a SQLite app move "
                           "between nodes)."),
    },
    description="Persistent volumes.",
)
RESOURCES = obj(
    {"cpu": quantity("CPU request and limit of each instance (such as 500m, 2)."),
     "memory": quantity("Memory request and limit of each instance (such as 2Gi).")},
    description="Compute resources of each instance.",
)
POOLER = obj(
    {
        "enabled": flag("Put a connection pooler in front of the database: PgBouncer (CloudNativePG Pooler) for "
                        "PostgreSQL, HAProxy for MySQL."),
        "replicas": count("Pooler instances.", default=2),
        "mode": enum(["session", "transaction", "statement"],
                     "PgBouncer's pool mode (CloudNativePG offers session and transaction).", default="session"),
        "parameters": string_map("PgBouncer parameters (such as default_pool_size)."),
    },
    description="Connection pooler.",
)
SCHEDULING = obj(
    {
        "antiAffinity": enum(["required", "preferred", "none"],
                             "Spread instances over nodes: required (never two on one node), preferred, or none.",
                             default="preferred"),
        "nodeSelector": {"type": "object", "propertyNames": LABEL_KEY, "additionalProperties": LABEL_VALUE,
                         "description": "Node labels the instances must run on (such as pool: db)."},
        "tolerations": listof(
            obj(
                {
                    "key": described(LABEL_KEY, "The taint's key."),
                    "operator": enum(["Exists", "Equal"], "Equal: the taint's value must be value; Exists: any value."),
                    "value": described(LABEL_VALUE, "The taint's value (with operator Equal)."),
                    "effect": enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], "The taint effect tolerated."),
                    "tolerationSeconds": {"type": "integer", "description": "How long a NoExecute taint is tolerated."},
                },
                description="A Kubernetes toleration.",
            ),
            "Taints the instances tolerate.",
        ),
    },
    description="Where instances run.",
)
PROXY = obj(
    {
        "enabled": flag("Reach this database through xdatabase-proxy: a Service labelled for it (and one for the "
                        "pooler)."),
        "deploymentId": dns_label("The name clients use in the proxy's user name (<user>.<deploymentId>); default: "
                                  "the entry's name."),
    },
    description="xdatabase-proxy routing.",
)
TLS = obj({"enabled": flag("Require TLS from clients (refuse plain connections).")}, description="TLS.")
RESTORE = obj(
    {
        "fromStore": dns_label("The backupStores entry that holds the backups to restore."),
        "sourceCluster": dns_label("The cluster whose backups to restore (default: this cluster; MySQL: the cluster "
                                   "that the backup's name names)."),
        "environment": dns_label("The environment whose backups to restore (default: this one). Backups live in "
                                 "<store path>/<environment>/<cluster>: naming another environment, such as prod "
                                 "from dev, reads its backups and never writes there."),
        "serverName": dns_label("PostgreSQL: the archive's folder in the store (default: the source cluster's "
                                "backup.serverName when it is in the catalog, else its name)."),
        "backup": pattern("[A-Za-z0-9][A-Za-z0-9:._-]*", "backup name", "is not a backup's name (letters, digits and :._-)",
                          "Percona engines: the backup to restore (MySQL: <cluster>-YYYY-MM-DD-hh:mm:ss-full; "
                          "MongoDB: the backup's name, such as 2026-11-20T03:00:00Z).", maxLength=253),
        "pointInTime": string("Recover to this moment, an RFC 3339 time with a zone (such as 2026-11-20T10:00:00Z).",
                              format="date-time"),
    },
    required=("fromStore",),
    description="Bootstrap this new cluster from backups. Acts once: remove it once the data is back.",
)
EXTENSION = pattern("[a-z0-9_][a-z0-9_-]*", "extension name", "is not an extension's name (lower-case letters, digits, "
                    "'_' and '-', such as uuid-ossp)", "A PostgreSQL extension.", maxLength=63)
CLUSTER_DATABASE = obj(
    {
        "name": sql_identifier("The database's name."),
        "owner": sql_identifier("The role that owns it (a managed role; its password comes from a Secret). Default: "
                                "the database's name."),
        "extensions": listof(EXTENSION, "Extensions to create in it (such as pgcrypto)."),
    },
    required=("name",),
    description="A logical database inside the cluster.",
)

KAFKA_NAME = pattern(KAFKA_NAME_RE, "topic name", "is not a Kafka topic name (letters, digits, '.', '_', '-'), or a "
                     "prefix ending in '*'", "A topic, or a prefix of topics ending in '*'.", maxLength=250)
KUBERNETES_CLUSTER_REF = dns_label("The Kubernetes cluster it runs on: a kubernetesClusters entry. None: the cluster "
                                   "that runs the GitOps engine.")
CLUSTER = obj(
    {
        "name": dns_label("The cluster's name: names its objects and its output folder."),
        "engine": enum(ENGINES, "postgresql (CloudNativePG), mysql (Percona XtraDB Cluster), mongodb (Percona Server "
                                "for MongoDB), kafka (Strimzi, KRaft), or sqlite (Litestream)."),
        "namespace": NAMESPACE,
        "version": string("The database version the pinned operator release runs: a release line (\"17\", \"8.0\", "
                          "\"4.3\": its newest build), an upstream version, or an exact tag; dbfleet pins the image "
                          "(dbfleet versions lists them)."),
        "replicas": count("Instances (Kafka: brokers; the Percona engines need an odd number, at least 3).", default=1),
        "storage": STORAGE,
        "resources": RESOURCES,
        "parameters": string_map("Database server parameters (postgresql.conf, my.cnf, mongod, Kafka broker config)."),
        "pooler": POOLER,
        "monitoring": MONITORING,
        "scheduling": SCHEDULING,
        "backup": CLUSTER_BACKUP,
        "restore": RESTORE,
        "restartedAt": string("Restart every instance, one by one, when this changes: an RFC 3339 time (dbfleet restart "
                              "writes the current one).", format="date-time"),
        "allowDestructive": ALLOW_DESTRUCTIVE,
        "proxy": PROXY,
        "tls": TLS,
        "kubernetesCluster": KUBERNETES_CLUSTER_REF,
        "databases": listof(CLUSTER_DATABASE, "Logical databases inside this cluster (PostgreSQL)."),
        "kafka": obj(
            {
                "controllers": count("Dedicated KRaft controllers; without, brokers are controllers too."),
                "metadataVersion": pattern(r"[0-9]+\.[0-9]+-IV[0-9]+", "metadata version", "is not a KRaft metadata "
                                           "version (such as 4.1-IV1)", "The KRaft metadata version (default: the "
                                           "Kafka version's)."),
            },
            description="Kafka: KRaft settings.",
        ),
        "topics": listof(
            obj(
                {
                    "name": pattern("[a-zA-Z0-9._-]+", "topic name", "is not a Kafka topic name (letters, digits, '.', '_', '-')",
                                    "The topic's name.", maxLength=249),
                    "partitions": count("Partitions.", default=3),
                    "replicas": count("Replicas of each partition (default: the brokers, at most 3)."),
                    "config": string_map("Topic configuration (such as retention.ms)."),
                },
                required=("name",),
                description="A KafkaTopic.",
            ),
            "Kafka: topics.",
        ),
        "users": listof(
            obj(
                {
                    "name": dns_label("The user's name (and its Secret's)."),
                    "authentication": enum(["scram-sha-512", "tls"], "How the user authenticates.",
                                           default="scram-sha-512"),
                    "read": listof(KAFKA_NAME, "Topics it may read (and describe)."),
                    "write": listof(KAFKA_NAME, "Topics it may write (and describe)."),
                    "groups": listof(pattern(KAFKA_NAME_RE, "consumer group", "is not a consumer group name (letters, "
                                             "digits, '.', '_', '-'), or a prefix ending in '*'",
                                             "A consumer group, or a prefix ending in '*'.", maxLength=250),
                                     "Consumer groups it may use."),
                },
                required=("name",),
                description="A KafkaUser with its ACLs.",
            ),
            "Kafka: users.",
        ),
        "sharding": obj(
            {
                "enabled": flag("Shard the cluster: config servers and mongos routers."),
                "mongos": count("mongos routers.", default=2),
                "configServers": count("Config server replica set members.", default=3),
            },
            description="MongoDB: sharding.",
        ),
        "sqlite": obj(
            {
                "file": file_name("The database file on the volume.", default="app.db"),
                "initSQL": string("SQL applied once per version of it (its checksum is recorded in the database)."),
                "attachTo": obj(
                    {"kind": enum(["Deployment", "StatefulSet"], "The workload's kind."),
                     "name": dns_subdomain("The workload's name."),
                     "container": dns_label("The app's container that opens the database: the volume is mounted "
                                            "into it at /data (default: the container named like the workload).")},
                    required=("kind", "name"),
                    description="Make your own workload the writer: a kustomize Component adds Litestream as its "
                                "sidecar.",
                ),
            },
            description="SQLite: the database file.",
        ),
        "rest": obj(
            {
                "enabled": flag("Serve tables over HTTP with sqlite-rest."),
                "allowedTables": listof(pattern("[A-Za-z_][A-Za-z0-9_]*", "table name", "is not a table name (letters, "
                                                "digits and '_')", "A table name.", maxLength=128),
                                        "The tables sqlite-rest may serve."),
                "authSecret": secret_name("The Secret with sqlite-rest's token."),
            },
            description="SQLite: an HTTP API.",
        ),
        "ingress": obj(
            {"host": pattern(rf"(\*\.)?{DNS_SUBDOMAIN_RE}", "host name", "is not a host name (a DNS "
                             "name in lower case, optionally beginning with '*.')", "The host name sqlite-rest is served on.",
                             maxLength=253),
             "tlsSecret": secret_name("The Secret with the Ingress's TLS certificate.")},
            required=("host",),
            description="SQLite: expose sqlite-rest through an Ingress.",
        ),
    },
    required=("name", "engine"),
    description="A database cluster run by an operator.",
)

CREDENTIALS = secret_name("The Secret with the store's keys. Without it (and without identity), the pods' ambient "
                          "credentials are used (a node's instance role).")


def identity(cloud: str, key: str, value: Schema, how: str) -> Schema:
    return obj({cloud: obj({key: value}, required=(key,), description=how)}, required=(cloud,),
               description="Authenticate as a cloud identity, not with keys: every pod that reads or writes the store "
                           "runs as a ServiceAccount dbfleet annotates for it (instead of credentialsSecret).")


S3_IDENTITY = identity("aws", "roleArn", pattern(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+", "role ARN",
                                                 "is not an IAM role's ARN (arn:aws:iam::<account>:role/<name>)",
                                                 "The IAM role the pods assume (EKS IAM roles for service accounts).",
                                                 maxLength=2048),
                       "An AWS IAM role, through EKS IAM roles for service accounts (eks.amazonaws.com/role-arn).")
GCS_IDENTITY = identity("gcp", "serviceAccount", pattern(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.:-]+\.gserviceaccount\.com",
                                                         "Google service account", "is not a Google service account's "
                                                         "e-mail (name@project.iam.gserviceaccount.com)",
                                                         "The Google service account the pods act as.", maxLength=320),
                        "A Google service account, through GKE Workload Identity (iam.gke.io/gcp-service-account).")
AZURE_IDENTITY = identity("azure", "clientId", pattern("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                                       "[0-9a-fA-F]{12}", "client ID", "is not a client ID (a UUID)",
                                                       "The client ID of the managed identity or app registration.",
                                                       maxLength=36),
                          "A Microsoft Entra identity, through Azure Workload Identity (azure.workload.identity/client-id).")
S3 = obj(
    {
        # Amazon's rules, and the upper case and '_' of buckets made before March 2018.
        "bucket": pattern("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", "bucket name", "is not a bucket name (letters, digits, "
                          "'.', '_' and '-', beginning and ending with a letter or digit)", "The bucket.", minLength=3,
                          maxLength=255),
        "region": pattern("[a-z0-9][a-z0-9-]*", "region", "is not a region (lower-case letters, digits and '-', such as "
                          "eu-west-1)", "The region.", maxLength=63),
        "endpoint": pattern(URL_RE, "URL", "is not an http(s) URL", "The endpoint URL (such as "
                            "https://s3.eu-west-1.amazonaws.com); also for S3-compatible stores.", format="uri",
                            maxLength=2048),
        "path": folder("A folder in the bucket."),
        "credentialsSecret": CREDENTIALS,
        "identity": S3_IDENTITY,
    },
    required=("bucket",),
    description="An S3 (or S3-compatible) bucket.",
)
GCS = obj({"bucket": pattern("[a-z0-9]([a-z0-9._-]*[a-z0-9])?", "bucket name", "is not a Cloud Storage bucket name "
                              "(lower-case letters, digits, '.', '_' and '-')", "The bucket.", minLength=3, maxLength=222),
           "path": folder("A folder in the bucket."), "credentialsSecret": CREDENTIALS, "identity": GCS_IDENTITY},
          required=("bucket",), description="A Google Cloud Storage bucket.")
AZURE = obj(
    {"container": pattern("(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?", "container name", "is not a blob container name "
                          "(lower-case letters, digits and single '-')", "The blob container.", minLength=3, maxLength=63),
     "storageAccount": pattern("[a-z0-9]+", "storage account", "is not a storage account name (lower-case letters and "
                               "digits)", "The storage account.", minLength=3, maxLength=24),
     "path": folder("A folder in the container."), "credentialsSecret": CREDENTIALS, "identity": AZURE_IDENTITY},
    required=("container", "storageAccount"),
    description="An Azure Blob Storage container.",
)
VOLUME = obj(
    {"claim": dns_subdomain("The PersistentVolumeClaim."), "path": folder("A folder on the volume."),
     "size": quantity("The size of each backup volume (the Percona operators make one per backup)."),
     "class": dns_subdomain("Their StorageClass.")},
    required=("claim",),
    description="A PersistentVolumeClaim.",
)
BACKUP_STORE = obj(
    {"name": dns_label("The store's name, which backup.store and restore.fromStore refer to."),
     "s3": S3, "gcs": GCS, "azure": AZURE, "volume": VOLUME},
    required=("name",),
    description="A named backup destination: exactly one of s3, gcs, azure or volume.",
    minProperties=2,
    maxProperties=2,
)

SERVER = obj(
    {
        "name": dns_label("The server's name, which databases[].on refers to."),
        "engine": enum(SERVER_ENGINES, "postgresql or mysql."),
        "host": host("The server's host name or IP address."),
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "The server's port (default 5432 or 3306)."},
        "adminSecret": secret_name("The Secret with an admin's username and password (keys username, password)."),
        "tls": obj(
            {
                "mode": enum(["disable", "require", "verify-ca", "verify-full"],
                             "How clients check the server: verify-ca and verify-full need caSecret."),
                "caSecret": secret_name("The Secret with the server's CA certificate (key ca.crt)."),
                "clientSecret": secret_name("A kubernetes.io/tls Secret: the client certificate, for servers that ask "
                                            "for one."),
            },
            description="TLS to the server.",
        ),
    },
    required=("name", "engine", "host", "adminSecret"),
    description="A database server dbfleet does not run (RDS, Cloud SQL, a VM).",
)
DATABASE = obj(
    {
        "name": dns_label("The database's name (also its output folder)."),
        "on": dns_label("The server, or the catalog cluster (MySQL, MongoDB), the database lives on."),
        "namespace": NAMESPACE,
        "owner": sql_identifier("The role that owns it (default: the database's name)."),
        "credentialsSecret": secret_name("The Secret apps mount, with the owner's password; with secrets.provider "
                                         "external-secrets, dbfleet makes it."),
        "shared": flag("The environments share this database and its owner on the same server, on purpose: each "
                       "provisions it alike, with one password (store key <fleet>/shared/<database>). Without it, two "
                       "environments that reach one server must use different databases."),
        "extensions": listof(EXTENSION, "Extensions to create in it."),
        "backup": DATABASE_BACKUP,
        "monitoring": obj({"enabled": flag("Alert when its dumps stop: a PrometheusRule on kube-state-metrics' "
                                           "CronJob metrics."),
                           "pmmServer": host("Not used by databases (the fleet default's, for clusters).")},
                          description="Backup alerts."),
        "restore": obj(
            {"fromStore": dns_label("The backupStores entry that holds the dumps."),
             "environment": dns_label("The environment whose dumps to load (default: this one)."),
             "dump": pattern(r"latest|[A-Za-z0-9][A-Za-z0-9._:-]*\.(sql|archive)\.gz", "dump", "is neither 'latest' nor "
                             "a dump file name (such as billing-20261120T023000Z.sql.gz)",
                             "latest, or a dump's file name (such as billing-20261120T023000Z.sql.gz).", maxLength=255)},
            required=("fromStore",),
            description="Load a dump into the freshly provisioned database. Acts once: remove it once the data is back.",
        ),
        "proxy": PROXY,
        "kubernetesCluster": KUBERNETES_CLUSTER_REF,
        "allowDestructive": ALLOW_DESTRUCTIVE,
    },
    required=("name", "on"),
    description="A logical database on a server or on a catalog cluster: provisioned by a Job, dumped by a CronJob.",
)
VCLUSTER = obj(
    {
        "name": dns_label("The vCluster's name."),
        "namespace": dns_label("Its namespace (default: vcluster-<name>)."),
        "database": dns_label("The databases entry that backs its control plane (its own database and user)."),
        "chartVersion": pattern(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?", "chart version", "is not a chart version "
                                "(such as 0.36.1)", "The vCluster chart's version.", default="0.36.1"),
        "identityProvider": enum(["aws"], "aws: RDS IAM authentication, no password (needed with Argo CD)."),
        "values": {"type": "object", "description": "Extra chart values, merged last."},
        "allowDestructive": ALLOW_DESTRUCTIVE,
    },
    required=("name", "database"),
    description="A vCluster control plane backed by an external database.",
)

KUBERNETES_CLUSTER = obj(
    {
        "name": dns_label("The name entries use in kubernetesCluster."),
        "argocd": obj(
            {"name": pattern(r"[A-Za-z0-9][A-Za-z0-9._:/@-]*", "Argo CD cluster name", "is not an Argo CD cluster name",
                             "The cluster's name in Argo CD (the name of its cluster Secret's entry).", maxLength=253),
             "server": pattern(URL_RE, "URL", "is not an API server URL (https://...)", "The cluster's API server URL, "
                               "as Argo CD knows it.", maxLength=2048)},
            description="Argo CD: where the Applications of its entries go, by name or by server (one of them).",
            minProperties=1,
            maxProperties=1,
        ),
        "flux": obj(
            {"kubeConfigSecret": secret_name("The Secret, in the GitOps namespace, with a kubeconfig for the cluster."),
             "key": pattern(r"[-._a-zA-Z0-9]+", "Secret key", "is not a Secret key", "The key that holds the kubeconfig "
                            "(default: value, or value.yaml, as Flux reads).", maxLength=253)},
            required=("kubeConfigSecret",),
            description="Flux: the kubeconfig its Kustomizations apply with (spec.kubeConfig.secretRef).",
        ),
    },
    required=("name",),
    description="A Kubernetes cluster entries can run on, and how the GitOps engine reaches it.",
)

SPEC_PROPERTIES: Schema = {
    "defaults": obj(
        {
            "namespace": dns_label("The namespace of entries that name none.", default=DEFAULT_NAMESPACE),
            "backup": DEFAULT_BACKUP,
            "storage": STORAGE,
            "resources": RESOURCES,
            "monitoring": MONITORING,
            "scheduling": SCHEDULING,
            "pooler": POOLER,
            "proxy": PROXY,
            "tls": TLS,
            "kubernetesCluster": KUBERNETES_CLUSTER_REF,
        },
        description="Settings merged under every cluster and database (an entry's own win).",
    ),
    "backupStores": listof(BACKUP_STORE, "Where backups go, by name."),
    "clusters": listof(CLUSTER, "Database clusters run by operators."),
    "servers": listof(SERVER, "Database servers dbfleet does not run."),
    "databases": listof(DATABASE, "Logical databases on servers or clusters."),
    "vclusters": listof(VCLUSTER, "vCluster control planes on an external database."),
    "decommissioned": listof(
        obj({"name": dns_label("The cluster, database or vCluster removed."),
             "reason": string("Why, and what became of its data (such as \"final backup kept in s3-archive\").",
                              minLength=1, maxLength=500)},
            required=("name", "reason"), description="An entry removed on purpose."),
        "Entries removed on purpose: dbfleet plan lets their removal through and shows the reason in the pull request "
        "(a removed entry cannot carry allowDestructive).",
    ),
    "kubernetesClusters": listof(KUBERNETES_CLUSTER, "Kubernetes clusters that clusters and databases can be placed "
                                 "on (kubernetesCluster); vCluster control planes and the proxy go wherever needed."),
    "clusterDomain": dns_subdomain("The Kubernetes cluster's DNS domain: jobs reach a catalog cluster at "
                                   "<service>.<namespace>.svc.<clusterDomain>, the name the operators' certificates "
                                   "carry.", default="cluster.local"),
    "proxy": obj(
        {
            "enabled": flag("Deploy xdatabase-proxy."),
            "namespace": dns_label("Its namespace.", default="xdatabase-proxy"),
            "image": pattern(IMAGE_RE, "image", "is not a pinned image reference (such as registry/name:v1.2 or "
                             "name@sha256:<digest>; never latest)", "Its image, pinned.",
                             default="ghcr.io/hasirciogluhq/xdatabase-proxy:v2.0.0", maxLength=512),
            "replicas": count("Its replicas.", default=2),
            "databaseType": enum(["postgresql", "mysql", "mongodb"], "The protocol it serves.", default="postgresql"),
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432,
                     "description": "The port clients connect to."},
            "host": host("How clients reach it (default: the Service's cluster DNS name)."),
            "tlsSecret": secret_name("The Secret with its TLS certificate.", default="xdatabase-proxy-tls"),
            "resources": RESOURCES,
        },
        description="The xdatabase-proxy deployment.",
    ),
    "secrets": obj(
        {
            "provider": enum(["external-secrets", "existing"],
                             "external-secrets: dbfleet renders ExternalSecrets that fill the Secrets from your store; "
                             "existing: you create the Secrets."),
            "store": obj(
                {"kind": enum(["SecretStore", "ClusterSecretStore"], "The store's kind."),
                 "name": dns_subdomain("The store's name.")},
                required=("kind", "name"),
                description="The External Secrets store.",
            ),
        },
        required=("provider",),
        description="How credentials reach the cluster; never as values in Git.",
        **{"if": {"properties": {"provider": {"const": "external-secrets"}}}, "then": {"required": ["store"]}},
    ),
    "gitops": obj(
        {
            "engine": enum(["argocd", "flux"], "The GitOps engine that syncs the output."),
            # Flux's own pattern (GitRepository spec.url); Argo CD reads these URLs too.
            "repoURL": pattern(r"(https?|ssh)://[^\x00-\x20\x7f/?#]+(/[^\x00-\x20\x7f]*)?", "URL",
                               "is not a Git repository URL (https://, http:// or ssh://)",
                               "The Git repository that holds the rendered output.", format="uri", maxLength=2048),
            "revision": pattern(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*\.lock(?![\s\S]))[A-Za-z0-9._/-]*[A-Za-z0-9_-]", "Git reference",
                                "is not a branch or tag name (letters, digits and ._/-)", "The branch (or tag) to sync.",
                                default="main", maxLength=255),
            "path": folder("The output folder in the repository.", default="rendered"),
            "namespace": dns_label("The namespace of the GitOps objects (default: argocd, or flux-system)."),
            "project": dns_subdomain("Argo CD: the project.", default="default"),
            # Flux's own pattern for intervals (source.toolkit.fluxcd.io GitRepository spec.interval).
            "interval": pattern(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+", "duration", "is not a duration (such as 1m, 30s, 1h30m)",
                                "Flux: how often to fetch the repository.", default="1m"),
        },
        required=("engine", "repoURL"),
        description="The Argo CD or Flux objects that sync the output.",
    ),
}


def _document(kind: str, spec: Schema, name: Schema, description: str) -> Schema:
    return obj(
        {
            "apiVersion": {"const": API_VERSION, "description": "The format's version."},
            "kind": {"const": kind, "description": description},
            "metadata": obj({"name": name}, required=("name",), description="The document's name."),
            "spec": spec,
        },
        required=("apiVersion", "kind", "metadata", "spec"),
    )


def _relaxed(schema: Any) -> Any:
    """An overlay's shape: like the spec, but nothing is required and ``null`` removes."""
    if isinstance(schema, dict):
        out = {k: _relaxed(v) for k, v in schema.items() if k not in ("required", "minProperties")}
        if "type" in out or "enum" in out:
            wrapper = {"anyOf": [out, {"type": "null"}]}
            if "description" in out:
                wrapper["description"] = out["description"] + " null removes it."
            return wrapper
        return out
    if isinstance(schema, list):
        return [_relaxed(s) for s in schema]
    return schema


CATALOG_SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dbfleet.dev/schemas/catalog-v1alpha1.json",
    "title": "dbfleet catalog",
    **_document("Catalog", obj(SPEC_PROPERTIES, description="The fleet: entries of all catalog files are merged."),
                dns_label("The fleet's name: label app.kubernetes.io/part-of, and the GitOps objects' names."),
                "A catalog file (catalog/*.yaml)."),
}

OVERLAY_SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dbfleet.dev/schemas/overlay-v1alpha1.json",
    "title": "dbfleet overlay",
    **_document("Overlay",
                _relaxed(obj(SPEC_PROPERTIES, description="Merged over the catalog: maps deep-merge, named entries "
                                                          "merge by name, other values replace, null removes.")),
                dns_label("The environment: its output folder rendered/<name>."),
                "An environment overlay (overlays/<env>.yaml)."),
}

# Overlay entries of named lists must still carry their name to be merged.
for _key in ("backupStores", "clusters", "servers", "databases", "vclusters", "kubernetesClusters", "decommissioned"):
    OVERLAY_SCHEMA["properties"]["spec"]["anyOf"][0]["properties"][_key]["anyOf"][0]["items"][
        "anyOf"
    ][0]["required"] = ["name"]

SCHEMAS = {"Catalog": CATALOG_SCHEMA, "Overlay": OVERLAY_SCHEMA}
