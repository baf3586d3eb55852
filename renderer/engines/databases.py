"""Logical databases on servers dbfleet does not run (and on catalog MySQL clusters), as
db-operator does with a controller: a provisioning Job, dump backups to a store, restores, the
connection Secret, and a proxy Service.  Scripts live in ConfigMaps; passwords only in Secrets.

A Job is immutable: each carries Argo CD's ``Replace=true,Force=true`` sync options and Flux's
``force: enabled``, so a changed Job is deleted and created again by either engine, with no manual
step; running it again is safe, since every statement is idempotent.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterator

from renderer.engines import alerts, drills
from renderer.kube import cron
from renderer.planning.components import CREATE_ONCE, Component, Fleet, WAVE_CONFIG, WAVE_DEPENDENT, secret_volume
from renderer.planning.locations import Location, PORTS, STORE_SECRET_KEYS, backup_location, store_identity

WAVE_JOB = 2
DEFAULT_SCHEDULE = "0 2 * * *"
IMAGES = {
    "postgresql": "docker.io/library/postgres:17.2-alpine",
    "mysql": "docker.io/library/mariadb:11.4.4",
    "mongodb": "docker.io/library/mongo:8.0.4",
}
RCLONE_IMAGE = "docker.io/rclone/rclone:1.68.2"
# What a dump is: SQL text, or a mongodump archive.
DUMP_SUFFIXES = {"postgresql": ".sql.gz", "mysql": ".sql.gz", "mongodb": ".archive.gz"}
CA, CLIENT, BACKUP, GCS = "/etc/db-ca", "/etc/db-client", "/backup", "/var/run/secrets/rclone-gcs"  # mount paths (pod.yaml.j2 has /scripts, /tools)
REMOTE = "STORE"  # rclone remote name, configured from RCLONE_CONFIG_STORE_* variables
FORCE_REPLACE = {
    "argocd.argoproj.io/sync-options": "Replace=true,Force=true",
    "kustomize.toolkit.fluxcd.io/force": "enabled",
}
# What db-operator's Secrets hold, by engine: database, user and password keys (MongoDB, which
# db-operator does not serve, in the same manner).
SECRET_KEYS = {
    "postgresql": ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"),
    "mysql": ("DB", "USER", "PASSWORD"),
    "mongodb": ("MONGODB_DATABASE", "MONGODB_USER", "MONGODB_PASSWORD"),
}


@dataclass(frozen=True)
class Target:
    """Where a database lives and how to reach it as an administrator."""

    engine: str
    host: str
    port: int
    admin_secret: str
    admin_user_key: str
    admin_password_key: str
    admin_user: str | None  # a fixed user name when the Secret holds only a password
    tls_mode: str
    ca_secret: str | None
    client_secret: str | None = None  # tls.crt and tls.key of a client certificate


def target(on: str, spec: dict[str, Any]) -> Target:
    for server in spec.get("servers") or []:
        if server["name"] == on:
            tls = server["tls"]
            return Target(server["engine"], server["host"], server["port"] or PORTS[server["engine"]], server["adminSecret"],
                          "username", "password", None, tls["mode"] or "require", tls["caSecret"], tls["clientSecret"])
    # A catalog cluster (the rules allow MySQL and MongoDB): its service, and the operator's Secrets.
    # Its full name: the one the operators put in their certificates (PSMDB v1.22.0,
    # pkg/psmdb/tls/tls.go: <service>.<namespace>.<clusterServiceDNSSuffix>, not ...svc alone).
    cluster = next(c for c in spec["clusters"] if c["name"] == on)
    suffix = f"{cluster['namespace']}.svc.{spec['clusterDomain']}"
    if cluster["engine"] == "mongodb":
        service = f"{on}-mongos" if cluster["sharding"]["enabled"] else f"{on}-rs0"
        return Target("mongodb", f"{service}.{suffix}", 27017, f"{on}-secrets",
                      "MONGODB_USER_ADMIN_USER", "MONGODB_USER_ADMIN_PASSWORD", None, "verify-full", f"{on}-ssl")
    service = f"{on}-haproxy" if cluster["pooler"]["enabled"] else f"{on}-pxc"
    return Target("mysql", f"{service}.{suffix}", 3306, f"{on}-secrets", "", "root", "root", "require", None)


def quote_identifier(engine: str, name: str) -> str:
    """An identifier as SQL writes it: names are refused on input if odd, and quoted anyway."""
    if engine == "postgresql":
        return '"' + name.replace('"', '""') + '"'
    return "`" + name.replace("`", "``") + "`"


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def owner_of(database: dict[str, Any]) -> str:
    return str(database["owner"] or database["name"].replace("-", "_"))


def provision_js(database: dict[str, Any]) -> str:
    """mongosh: the owner, created or brought in line; MongoDB makes the database on first write.
    Credentials come from the environment, never from the command line."""
    name, owner = json.dumps(database["name"]), json.dumps(owner_of(database))
    return f"""// Creates the database's owner, or brings it in line: running it twice changes nothing.
const env = process.env;
const connection = new Mongo(`mongodb://${{env.DB_HOST}}:${{env.DB_PORT}}/?${{env.DB_TLS_OPTIONS}}`);
const admin = connection.getDB("admin");
admin.auth(env.DB_ADMIN_USER, env.DB_ADMIN_PASSWORD);
const user = {owner};
const roles = [{{ role: "readWrite", db: {name} }}];
if (admin.getUser(user) === null) {{
  admin.createUser({{ user: user, pwd: env.DB_PASSWORD, roles: roles }});
}} else {{
  admin.updateUser(user, {{ pwd: env.DB_PASSWORD, roles: roles }});
}}
print(`database ${{{name}}} and user ${{user}} are provisioned`);
"""


def _iam_login(database: dict[str, Any], spec: dict[str, Any]) -> bool:
    """A vCluster logs in as the database's owner with RDS IAM authentication."""
    return any(vc["database"] == database["name"] and vc["identityProvider"] == "aws" for vc in spec.get("vclusters") or [])


def provision_sql(engine: str, database: dict[str, Any], iam: bool = False) -> str:
    """Idempotent statements: running them twice changes nothing and fails nothing.  ``iam``: the
    owner also logs in with RDS IAM authentication (a vCluster with identityProvider: aws)."""
    if engine == "mongodb":
        return provision_js(database)
    name, owner = database["name"], owner_of(database)
    db, user = quote_identifier(engine, name), quote_identifier(engine, owner)
    if engine == "postgresql":
        lines = [
            "\\set ON_ERROR_STOP on",
            "\\getenv password DB_PASSWORD",
            f"SELECT format('CREATE ROLE %I LOGIN', {quote_literal(owner)})",
            f"  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(owner)}) \\gexec",
            # The password comes from the environment through psql, which quotes it.
            f"ALTER ROLE {user} WITH LOGIN PASSWORD :'password';",
            *([
                # RDS IAM login needs the rds_iam role, which only RDS (with IAM authentication) has.
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN "
                "RAISE EXCEPTION 'no role rds_iam: identityProvider aws needs an RDS server with IAM authentication'; "
                "END IF; END $$;",
                f"GRANT rds_iam TO {user};",
            ] if iam else []),
            # On managed servers the administrator is no superuser: it must be a member to hand over.
            f"GRANT {user} TO CURRENT_USER;",
            f"SELECT format('CREATE DATABASE %I OWNER %I', {quote_literal(name)}, {quote_literal(owner)})",
            f"  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {quote_literal(name)}) \\gexec",
            f"ALTER DATABASE {db} OWNER TO {user};",
            f"REVOKE ALL ON DATABASE {db} FROM PUBLIC;",
            f"GRANT ALL PRIVILEGES ON DATABASE {db} TO {user};",
            f"\\connect {db}",
            f"ALTER SCHEMA public OWNER TO {user};",
        ]
        lines += [f"CREATE EXTENSION IF NOT EXISTS {quote_identifier(engine, ext)};" for ext in database["extensions"]]
    else:
        account = f"{quote_literal(owner)}@'%'"
        # The password arrives as @password (set by provision.sh); QUOTE() makes it a literal, and
        # the account is written inside a string literal, so its quotes are doubled once more.
        inner = account.replace("'", "''")
        lines = [
            f"CREATE DATABASE IF NOT EXISTS {db};",
            f"SET @create = CONCAT('CREATE USER IF NOT EXISTS {inner} IDENTIFIED BY ', QUOTE(@password));",
            "PREPARE statement FROM @create; EXECUTE statement; DEALLOCATE PREPARE statement;",
            f"SET @alter = CONCAT('ALTER USER {inner} IDENTIFIED BY ', QUOTE(@password));",
            "PREPARE statement FROM @alter; EXECUTE statement; DEALLOCATE PREPARE statement;",
            f"GRANT ALL PRIVILEGES ON {db}.* TO {account};",
        ]
    return "\n".join(lines) + "\n"


def _drill_files(engine: str, database: dict[str, Any]) -> dict[str, str]:
    """The files of a drill beside its script: SQL the administrator and the owner run.  (MongoDB's
    steps are one script, drill.js, which reads names and the check from the environment.)"""
    if engine == "mongodb":
        return {}
    setup, cleanup = drill_sql(engine, database)
    # The query is the catalog's SQL, run as the owner in a read-only transaction: its own file,
    # never part of another statement; its last ';' is the script's.
    return {"drill-setup.sql": setup, "drill-cleanup.sql": cleanup,
            "drill-check.sql": database["backup"]["drill"]["query"].strip().rstrip(";") + "\n"}


def drill_database(name: str) -> str:
    """The scratch database a restore drill loads into: a name no catalog database has (those
    are DNS labels: no '_'), within the 63 characters both servers allow."""
    scratch = f"_drill_{name}"
    return scratch if len(scratch) <= 63 else f"_drill_{name[:47]}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def drill_sql(engine: str, database: dict[str, Any]) -> tuple[str, str]:
    """What the administrator runs before a restore drill (a new scratch database the owner owns,
    with the database's extensions) and after it (the scratch database dropped)."""
    scratch, owner = quote_identifier(engine, drill_database(database["name"])), quote_identifier(engine, owner_of(database))
    if engine == "postgresql":
        setup = ["\\set ON_ERROR_STOP on", f"DROP DATABASE IF EXISTS {scratch};", f"CREATE DATABASE {scratch} OWNER {owner};",
                 f"REVOKE ALL ON DATABASE {scratch} FROM PUBLIC;", f"\\connect {scratch}",
                 f"ALTER SCHEMA public OWNER TO {owner};",
                 *(f"CREATE EXTENSION IF NOT EXISTS {quote_identifier(engine, ext)};" for ext in database["extensions"])]
    else:
        account = f"{quote_literal(owner_of(database))}@'%'"
        setup = [f"DROP DATABASE IF EXISTS {scratch};", f"CREATE DATABASE {scratch};",
                 f"GRANT ALL PRIVILEGES ON {scratch}.* TO {account};"]
    return "\n".join(setup) + "\n", f"DROP DATABASE IF EXISTS {scratch};\n"


def tls_volumes(t: Target) -> list[dict[str, Any]]:
    """The server's CA, and the client certificate when it asks for one."""
    volumes = [secret_volume("db-ca", t.ca_secret, "ca.crt")] if t.ca_secret else []
    if t.client_secret:
        volumes.append(secret_volume("db-client", t.client_secret, "tls.crt", "tls.key", defaultMode=0o400))
    return volumes


def tls_mounts(t: Target) -> list[dict[str, Any]]:
    mounts = [{"name": "db-ca", "mountPath": CA, "readOnly": True}] if t.ca_secret else []
    if t.client_secret:
        mounts.append({"name": "db-client", "mountPath": CLIENT, "readOnly": True})
    return mounts


def _server_env(t: Target) -> list[dict[str, Any]]:
    """How to reach the server: address, port and TLS."""
    env = [
        {"name": "DB_HOST", "value": t.host},
        {"name": "DB_PORT", "value": str(t.port)},
        {"name": "DB_TLS_MODE", "value": t.tls_mode},
    ]
    if t.ca_secret:
        env.append({"name": "DB_CA_FILE", "value": f"{CA}/ca.crt"})
    if t.client_secret:
        env += [{"name": "DB_CERT_FILE", "value": f"{CLIENT}/tls.crt"}, {"name": "DB_KEY_FILE", "value": f"{CLIENT}/tls.key"}]
    return env


def _admin_env(t: Target) -> list[dict[str, Any]]:
    """The administrator's credentials, from adminSecret; only the provisioning Job has them."""
    def key(name: str) -> dict[str, Any]:
        return {"valueFrom": {"secretKeyRef": {"name": t.admin_secret, "key": name}}}

    user = {"value": t.admin_user} if t.admin_user else key(t.admin_user_key)
    return [{"name": "DB_ADMIN_USER", **user}, {"name": "DB_ADMIN_PASSWORD", **key(t.admin_password_key)}]


def _on_aws(endpoint: str | None) -> bool:
    """Amazon S3 itself (no endpoint, or one of its own): rclone's AWS provider signs as S3 expects."""
    if not endpoint:
        return True
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    return host.endswith(".amazonaws.com")


def _rclone_env(store: dict[str, Any], folder: Location) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], str]:
    """rclone's remote from environment variables fed by the store's Secret; and the path of
    ``folder`` in it."""
    def var(key: str, value: str) -> dict[str, Any]:
        return {"name": f"RCLONE_CONFIG_{REMOTE}_{key}", "value": value}

    def from_secret(key: str, secret: str, secret_key: str) -> dict[str, Any]:
        return {"name": f"RCLONE_CONFIG_{REMOTE}_{key}", "valueFrom": {"secretKeyRef": {"name": secret, "key": secret_key}}}

    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if store["s3"]:
        s3 = store["s3"]
        env = [var("TYPE", "s3"), var("PROVIDER", "AWS" if _on_aws(s3["endpoint"]) else "Other")]
        if s3["credentialsSecret"]:
            env += [from_secret("ACCESS_KEY_ID", s3["credentialsSecret"], STORE_SECRET_KEYS["s3"]["accessKeyId"]),
                    from_secret("SECRET_ACCESS_KEY", s3["credentialsSecret"], STORE_SECRET_KEYS["s3"]["secretAccessKey"])]
        else:
            env.append(var("ENV_AUTH", "true"))
        env += [var("REGION", s3["region"])] if s3["region"] else []
        env += [var("ENDPOINT", s3["endpoint"])] if s3["endpoint"] else []
    elif store["gcs"]:
        gcs = store["gcs"]
        env = [var("TYPE", "google cloud storage"), var("BUCKET_POLICY_ONLY", "true")]
        if gcs["credentialsSecret"]:
            env.append(var("SERVICE_ACCOUNT_FILE", f"{GCS}/{STORE_SECRET_KEYS['gcs']['file']}"))
            volumes.append(secret_volume("gcs-credentials", gcs["credentialsSecret"], STORE_SECRET_KEYS["gcs"]["file"]))
            mounts.append({"name": "gcs-credentials", "mountPath": GCS, "readOnly": True})
        else:
            env.append(var("ENV_AUTH", "true"))
    elif store["azure"]:
        azure = store["azure"]
        env = [var("TYPE", "azureblob"), var("ACCOUNT", azure["storageAccount"])]
        if azure["credentialsSecret"]:
            env.append(from_secret("KEY", azure["credentialsSecret"], STORE_SECRET_KEYS["azure"]["key"]))
        else:
            env.append(var("ENV_AUTH", "true"))
    else:
        volume = store["volume"]
        env = [var("TYPE", "local")]
        volumes.append({"name": "backup", "persistentVolumeClaim": {"claimName": volume["claim"]}})
        mounts.append({"name": "backup", "mountPath": BACKUP})
    # rclone's azureblob remote names the account itself: the path starts at the container.
    bucket = BACKUP if store["volume"] else folder.bucket.split("/", 1)[-1]
    return env, volumes, mounts, "/".join((bucket, *folder.folder))


def render(database: dict[str, Any], spec: dict[str, Any], fleet: Fleet) -> Iterator[Component]:
    name, namespace = database["name"], database["namespace"]
    t = target(database["on"], spec)
    keys = SECRET_KEYS[t.engine]
    credentials = database["credentialsSecret"] or name
    owner = owner_of(database)
    if fleet.secrets and fleet.secrets["provider"] == "external-secrets":
        yield Component(
            "databases/externalsecret.yaml.j2",
            {"namespace": namespace, "name": credentials, "store": fleet.secrets["store"], "keys": keys, "database": name,
             "owner": owner, "remote_key": f"{fleet.name}/{'shared' if database['shared'] else fleet.env}/{name}",
             "connection": _connection_template(t, name, owner)},
            "credentials",
            WAVE_CONFIG,
            holds_data=True,
        )
    backup, restore = database["backup"], database["restore"]
    dumps = backup["method"] == "dump" and backup["store"] is not None
    drill = backup["drill"] if dumps else None
    yield Component(
        "databases/configmap.yaml.j2",
        {"namespace": namespace, "name": f"{name}-scripts", "engine": t.engine,
         "provision_file": "provision.js" if t.engine == "mongodb" else "provision.sql",
         "provision": provision_sql(t.engine, database, iam=_iam_login(database, spec)), "backup": dumps,
         "restore": restore is not None, "drill": drill is not None,
         "drill_files": _drill_files(t.engine, database) if drill else {}},
        "config",
        WAVE_CONFIG,
    )
    owner_env = [
        {"name": "DB_NAME", "value": name},
        {"name": "DB_OWNER", "value": owner},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": credentials, "key": keys[2]}}},
    ]
    pod = {
        "namespace": namespace,
        "image": IMAGES[t.engine],
        "rclone_image": RCLONE_IMAGE,
        "scripts_config": f"{name}-scripts",
        "ca_volumes": tls_volumes(t),
        "ca_mounts": tls_mounts(t),
        "security": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "annotations": FORCE_REPLACE,
        "backoff_limit": 4,
        "deadline": 1800,
        "volumes": [],
        "mounts": [],
        "rclone": False,
        "service_account": None,
        "pod_labels": {},
    }
    yield Component(
        "databases/job.yaml.j2",
        {**pod, "name": f"{name}-provision", "script": "provision.sh", "script_name": "provision",
         "env": _server_env(t) + _admin_env(t) + owner_env},
        "provisioning",
        WAVE_JOB,
    )
    # Dumps and restores run as the owner: it owns everything in its database, and no more.
    if dumps:
        store = fleet.stores[backup["store"]]
        env, volumes, mounts, path = _rclone_env(store, backup_location(store, fleet.env, name))
        dumps_env = env + _dumps_env(t, path)
        retention = f"{cron.retention_days(backup['retention'])}d" if backup["retention"] else ""
        dump = {**pod, **_identity(backup["store"], store), "script": "backup.sh", "script_name": "backup",
                "rclone": True, "volumes": volumes, "mounts": mounts, "backoff_limit": 2, "deadline": 10800,
                "env": _server_env(t) + owner_env + dumps_env + [{"name": "BACKUP_RETENTION", "value": retention}]}
        yield Component("databases/cronjob.yaml.j2",
                        {**dump, "name": f"{name}-backup", "schedule": backup["schedule"] or DEFAULT_SCHEDULE},
                        "backup", WAVE_JOB)
        if drill:
            # The drill restores as the owner into a database the administrator makes and drops.
            yield Component("databases/cronjob.yaml.j2",
                            {**dump, "name": f"{name}-drill", "schedule": drill["schedule"], "script": "drill.sh",
                             "script_name": "drill", "backoff_limit": 0,
                             "env": _server_env(t) + _admin_env(t) + owner_env + dumps_env + [
                                 {"name": "RESTORE_DUMP", "value": "latest"},
                                 {"name": "DRILL_DATABASE", "value": drill_database(name)}]
                                 + (drills.mongodb_check(drill) if t.engine == "mongodb" else [])},
                            "drill", WAVE_JOB)
        if database["monitoring"]["enabled"]:
            checked = [(f"{name}-backup", backup["schedule"] or DEFAULT_SCHEDULE, "Backup", "dump")]
            if drill:
                checked.append((f"{name}-drill", drill["schedule"], "RestoreDrill", "restore drill"))
            yield alerts.dumps(namespace, name, checked)
        if backup["onDemand"]:  # the CronJob's job, once (kubectl create job --from=cronjob/... in Git)
            yield Component("databases/job.yaml.j2",
                            {**dump, "name": f"{name}-backup-{backup['onDemand']}", "annotations": CREATE_ONCE},
                            "backup", WAVE_JOB, holds_data=True)
    if restore:
        store = fleet.stores[restore["fromStore"]]
        env, volumes, mounts, path = _rclone_env(store, backup_location(store, restore["environment"] or fleet.env, name))
        yield Component(
            "databases/job.yaml.j2",
            {**pod, **_identity(restore["fromStore"], store), "name": f"{name}-restore", "script": "restore.sh",
             "script_name": "restore", "rclone": True,
             "volumes": volumes, "mounts": mounts,
             "env": _server_env(t) + owner_env + env + _dumps_env(t, path)
                    + [{"name": "RESTORE_DUMP", "value": restore["dump"] or "latest"}]},
            "restore",
            WAVE_JOB + 1,
        )
    if database["proxy"]["enabled"]:
        yield from _proxy(database, t)


def _dumps_env(t: Target, path: str) -> list[dict[str, Any]]:
    """Where the dumps of a database are, and what their files end in."""
    return [{"name": "BACKUP_PATH", "value": f"{REMOTE}:{path}"}, {"name": "DUMP_SUFFIX", "value": DUMP_SUFFIXES[t.engine]}]


def _identity(name: str, store: dict[str, Any]) -> dict[str, Any]:
    """The pod's ServiceAccount and labels, for a store with a cloud identity (rclone's env_auth
    then reads the credentials the identity's webhook or metadata server provides)."""
    found = store_identity(name, store)
    return {"service_account": found.account, "pod_labels": found.pod_labels} if found else {}


def _connection_template(t: Target, database: str, owner: str) -> str:
    """The connection string, as an External Secrets template: the password is filled in the
    cluster, never in Git."""
    password = "{{ .password | urlquery }}"
    if t.engine == "postgresql":
        return f"postgresql://{owner}:{password}@{t.host}:{t.port}/{database}?sslmode={t.tls_mode}"
    if t.engine == "mongodb":
        return f"mongodb://{owner}:{password}@{t.host}:{t.port}/{database}?authSource=admin&tls=true"
    return f"mysql://{owner}:{password}@{t.host}:{t.port}/{database}"


def _proxy(database: dict[str, Any], t: Target) -> Iterator[Component]:
    """A Service labelled for xdatabase-proxy that reaches the server: ExternalName for a host
    name, a selector-less Service with an EndpointSlice for an IP address."""
    name, namespace = database["name"], database["namespace"]
    try:
        address = ipaddress.ip_address(t.host)
    except ValueError:
        address = None
    context = {
        "namespace": namespace,
        "service_name": f"{name}-proxy",
        "deployment_id": database["proxy"]["deploymentId"] or name,
        "database_type": t.engine,
        "port": t.port,
        "port_name": t.engine,
        "external_name": None if address else t.host,
        "address": str(address) if address else None,
        "address_type": f"IPv{address.version}" if address else None,
    }
    yield Component("databases/proxy-service.yaml.j2", context, "proxy", WAVE_DEPENDENT)
    if address:
        yield Component("databases/endpointslice.yaml.j2", context, "proxy", WAVE_DEPENDENT)
