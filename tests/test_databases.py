"""Logical databases on servers, for real: the rendered provisioning, backup and restore scripts run
against a throwaway PostgreSQL and MariaDB on loopback, with rclone to a local-directory remote."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from renderer.catalog.load import load
from renderer.engines.databases import quote_identifier
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle
from renderer.rendering.templating import Templates
from tests import servers
from tests.conftest import ROOT, tree

# Every character a shell or SQL could trip on.
PASSWORD = "pa'ss\"wo\\rd $HOME `x` ;--"


@pytest.fixture(scope="module")
def postgresql() -> Iterator[servers.Server]:
    yield from servers.postgresql()


@pytest.fixture(scope="module")
def mariadb() -> Iterator[servers.Server]:
    yield from servers.mariadb()


def catalog(server: servers.Server, tmp: Path) -> Bundle:
    extensions = "extensions: [pgcrypto, uuid-ossp]" if server.engine == "postgresql" else "owner: app_user"
    (tmp / "c.yaml").write_text(f"""\
apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata: {{name: t}}
spec:
  backupStores:
    - {{name: local, volume: {{claim: backups, path: dumps}}}}
  servers:
    - {{name: db, engine: {server.engine}, host: 127.0.0.1, port: {server.port}, adminSecret: admin, tls: {{mode: disable}}}}
  databases:
    - name: app-data
      on: db
      credentialsSecret: app-credentials
      {extensions}
      backup: {{method: dump, schedule: "0 2 * * *", store: local, retention: 7d,
               drill: {{schedule: "0 5 * * 0", query: "SELECT count(*) = 3 FROM drill_notes;"}}}}
      restore: {{fromStore: local, dump: latest}}
""")
    return render_all(load([tmp / "c.yaml"], [], tmp), Templates())


class Pod:
    """Runs a rendered Job's container here: its command, its environment (Secrets resolved from
    the test's own), its ConfigMap as files, and its volumes as folders."""

    def __init__(self, bundle: Bundle, server: servers.Server, root: Path) -> None:
        self.bundle, self.root = bundle, root
        folder = "default/databases/app-data"
        scripts = yaml.safe_load(bundle.files[f"{folder}/configmap-app-data-scripts.yaml"])["data"]
        (root / "scripts").mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)
        (root / "backup").mkdir(exist_ok=True)
        for name, text in scripts.items():
            (root / "scripts" / name).write_text(text)
        key = "POSTGRES_PASSWORD" if server.engine == "postgresql" else "PASSWORD"
        self.secrets = {"admin": {"username": servers.ADMIN_USER, "password": servers.ADMIN_PASSWORD},
                        "app-credentials": {key: PASSWORD}}
        self.folder = folder

    def run(self, kind: str, name: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = self.start(kind, name)
        stdout, stderr = done.communicate(timeout=120)
        if check and done.returncode:
            pytest.fail(f"{kind} {name} failed ({done.returncode}):\n{stdout}{stderr}")
        return subprocess.CompletedProcess(done.args, done.returncode, stdout, stderr)

    def start(self, kind: str, name: str) -> subprocess.Popen[str]:
        obj = yaml.safe_load(self.bundle.files[f"{self.folder}/{kind}-app-data-{name}.yaml"])
        spec = obj["spec"]["jobTemplate"]["spec"] if kind == "cronjob" else obj["spec"]
        container = spec["template"]["spec"]["containers"][0]
        env = {"PATH": os.environ["PATH"], "SCRIPTS": str(self.root / "scripts"), "TMPDIR": str(self.root / "tmp"),
               "RCLONE": shutil.which("rclone") or "rclone", "WAIT_INTERVAL": "0.2"}
        for item in container["env"]:
            if "value" in item:
                value = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                value = self.secrets[ref["name"]][ref["key"]]
            value = str(self.root / "tmp") if value == "/tmp" else value.replace(":/backup/", f":{self.root}/backup/")
            env[item["name"]] = value
        command = [part.replace("/scripts/", f"{self.root}/scripts/") for part in container["command"]]
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def restore_waits_for_provisioning(self) -> str:
        """The restore Job started before the provisioning Job (Flux or Argo CD may start them in
        any order across units; kubectl apply does): it waits, then restores."""
        restore = self.start("job", "restore")
        time.sleep(1)
        assert restore.poll() is None, "the restore gave up before the database was provisioned"
        self.run("job", "provision")
        stdout, stderr = restore.communicate(timeout=120)
        assert restore.returncode == 0, stderr
        assert "waiting for app-data and its owner" in stderr
        return stdout

    def dumps(self) -> list[Path]:
        return sorted((self.root / "backup" / "dumps" / "default" / "app-data").glob("*.sql.gz"))  # <store path>/<env>/<database>


def needs(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (CI installs it from Debian)")


def psql(server: servers.Server, sql: str, user: str = "app_data", password: str = PASSWORD, database: str = "app-data") -> str:
    env = {**os.environ, "PGPASSWORD": password}
    done = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def mysql(server: servers.Server, sql: str, user: str = "app_user", password: str = PASSWORD, database: str = "app-data") -> str:
    env = {**os.environ, "MYSQL_PWD": password}
    done = subprocess.run(["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(server.port), "-u", user, "-N", "-B", database, "-e", sql],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_postgresql_provision_backup_restore(postgresql: servers.Server, tmp_path: Path) -> None:
    needs("psql", "pg_dump", "rclone", "gzip")
    pod = Pod(catalog(postgresql, tmp_path), postgresql, tmp_path / "pod")
    for _ in range(2):  # idempotent: the second run changes nothing and fails nothing
        assert "are provisioned" in pod.run("job", "provision").stdout
    psql(postgresql, "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); "
                     "INSERT INTO notes (body) VALUES ('one'), ('two'), ('three');")
    admin = {"user": servers.ADMIN_USER, "password": servers.ADMIN_PASSWORD, "database": "postgres"}
    assert psql(postgresql, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app-data'", **admin) == "app_data"
    assert psql(postgresql, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1") == "pgcrypto\nuuid-ossp"
    # Other roles may not even connect: CONNECT was revoked from PUBLIC.
    psql(postgresql, "CREATE ROLE stranger LOGIN PASSWORD 'x'", **admin)
    assert psql(postgresql, "SELECT has_database_privilege('stranger', 'app-data', 'CONNECT')", **admin) == "f"
    assert pod.run("job", "provision").returncode == 0  # still fine with data in place

    old = pod.root / "backup" / "dumps" / "default" / "app-data" / "app-data-20200101T000000Z.sql.gz"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"")
    os.utime(old, (time.time() - 30 * 86400,) * 2)
    assert "wrote" in pod.run("cronjob", "backup").stdout
    dumps = pod.dumps()
    assert len(dumps) == 1 and dumps[0] != old, "the retention removed the 30-day-old dump"

    psql(postgresql, "DELETE FROM notes WHERE body = 'two'; INSERT INTO notes (body) VALUES ('after the dump');")
    refused = pod.run("job", "restore", check=False)
    assert refused.returncode != 0 and "never overwrites" in refused.stderr
    # A fresh database, provisioned again, then the dump restored into it.
    psql(postgresql, 'DROP DATABASE "app-data"', **admin)
    assert "restored app-data" in pod.restore_waits_for_provisioning()
    assert psql(postgresql, "SELECT body FROM notes ORDER BY id") == "one\ntwo\nthree"
    assert psql(postgresql, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'notes'") == "app_data"


def test_mariadb_provision_backup_restore(mariadb: servers.Server, tmp_path: Path) -> None:
    needs("mariadb", "mariadb-dump", "rclone", "gzip")
    pod = Pod(catalog(mariadb, tmp_path), mariadb, tmp_path / "pod")
    for _ in range(2):
        assert "are provisioned" in pod.run("job", "provision").stdout
    mysql(mariadb, "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL); "
                   "INSERT INTO notes (body) VALUES ('one'), ('two'), ('three');")
    grants = mysql(mariadb, "SHOW GRANTS FOR CURRENT_USER()")
    assert "GRANT ALL PRIVILEGES ON `app-data`.* TO `app_user`@`%`" in grants
    assert "ON *.*" in grants and "GRANT USAGE ON *.*" in grants  # nothing beyond its database

    assert "wrote" in pod.run("cronjob", "backup").stdout
    assert len(pod.dumps()) == 1
    mysql(mariadb, "DELETE FROM notes WHERE body = 'two'; INSERT INTO notes (body) VALUES ('after the dump');")
    refused = pod.run("job", "restore", check=False)
    assert refused.returncode != 0 and "never overwrites" in refused.stderr
    mysql(mariadb, "DROP DATABASE `app-data`", user=servers.ADMIN_USER, password=servers.ADMIN_PASSWORD, database="mysql")
    assert "restored app-data" in pod.restore_waits_for_provisioning()
    assert mysql(mariadb, "SELECT body FROM notes ORDER BY id") == "one\ntwo\nthree"


DRILL = re.compile(r"dbfleet-drill database=app-data dump=(app-data-[0-9]{8}T[0-9]{6}Z\.sql\.gz) "
                   r"restore_seconds=([0-9]+) data_age_seconds=([0-9]+) check=(passed|failed)")


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_a_restore_drill_loads_the_latest_dump_checks_it_and_cleans_up(engine: str, request: pytest.FixtureRequest,
                                                                       tmp_path: Path) -> None:
    server = request.getfixturevalue(engine)
    needs("rclone", "gzip", *(("psql", "pg_dump") if engine == "postgresql" else ("mariadb", "mariadb-dump")))
    query = psql if engine == "postgresql" else mysql
    admin = {"user": servers.ADMIN_USER, "password": servers.ADMIN_PASSWORD,
             "database": "postgres" if engine == "postgresql" else "mysql"}
    scratch = ("SELECT count(*) FROM pg_database WHERE datname = '_drill_app-data'" if engine == "postgresql" else
               "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '_drill_app-data'")
    pod = Pod(catalog(server, tmp_path), server, tmp_path / "pod")
    pod.run("job", "provision")
    query(server, "DROP TABLE IF EXISTS notes; DROP TABLE IF EXISTS drill_notes; CREATE TABLE drill_notes (id INT PRIMARY KEY, body TEXT NOT NULL); "
                  "INSERT INTO drill_notes VALUES (1, 'one'), (2, 'two'), (3, 'three');")
    pod.run("cronjob", "backup")
    query(server, "INSERT INTO drill_notes VALUES (4, 'after the dump');")  # the drill reads the dump, not the database

    done = pod.run("cronjob", "drill")
    found = DRILL.search(done.stdout)
    assert found, done.stdout + done.stderr
    dump, _, age, outcome = found.groups()
    assert outcome == "passed" and dump == pod.dumps()[-1].name and 0 <= int(age) < 600
    assert query(server, scratch, **admin) == "0"  # dropped
    assert query(server, "SELECT count(*) FROM drill_notes") == "4"  # the database itself untouched

    # A check that fails, and one that tries to write: the drill fails, and still cleans up.
    read_only = "read-only" if engine == "postgresql" else "READ ONLY"
    for check, message in (("SELECT count(*) = 4 FROM drill_notes", "check=failed"), ("DELETE FROM drill_notes", read_only),
                           ("COMMIT; DELETE FROM drill_notes", read_only)):  # the session is read-only too
        (pod.root / "scripts" / "drill-check.sql").write_text(check + "\n")
        failed = pod.run("cronjob", "drill", check=False)
        assert failed.returncode != 0 and message in failed.stdout + failed.stderr, failed.stdout + failed.stderr
        assert query(server, scratch, **admin) == "0"
    assert query(server, "SELECT count(*) FROM drill_notes") == "4"


def test_a_failed_dump_leaves_no_file(postgresql: servers.Server, tmp_path: Path) -> None:
    needs("psql", "pg_dump", "rclone")
    pod = Pod(catalog(postgresql, tmp_path), postgresql, tmp_path / "pod")
    pod.secrets["app-credentials"]["POSTGRES_PASSWORD"] = "wrong"
    result = pod.run("cronjob", "backup", check=False)
    assert result.returncode != 0
    assert pod.dumps() == []


@pytest.mark.parametrize(
    ("engine", "name", "quoted"),
    [("postgresql", "app", '"app"'), ("postgresql", 'a"b', '"a""b"'), ("mysql", "app-data", "`app-data`"), ("mysql", "a`b", "`a``b`")],
)
def test_identifiers_are_quoted_even_past_the_input_rules(engine: str, name: str, quoted: str) -> None:
    assert quote_identifier(engine, name) == quoted


def _golden_scripts() -> list[tuple[str, str, str]]:
    from tests.conftest import GOLDEN

    found = []
    for path in sorted(GOLDEN.rglob("configmap-*.yaml")):
        for key, text in (yaml.safe_load(path.read_text()).get("data") or {}).items():
            if key.endswith((".sh", ".js")):
                found.append((str(path.relative_to(GOLDEN)), key, text))
    return found


@pytest.mark.parametrize(("path", "key", "text"), _golden_scripts(), ids=lambda value: str(value)[-40:])
def test_every_rendered_script_parses(path: str, key: str, text: str, tmp_path: Path) -> None:
    """sh -n for the shell scripts (POSIX sh, as in the images; bash -n for those that say bash),
    node --check for mongosh's JS."""
    script = tmp_path / key
    script.write_text(text)
    if key.endswith(".js"):
        needs("node")
        command = ["node", "--check", str(script)]
    else:
        command = ["bash" if text.startswith("#!/bin/bash\n") else "sh", "-n", str(script)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{path}:{key}: {result.stderr}"


def test_mongodb_database_on_a_catalog_cluster_uses_the_operators_secrets() -> None:
    from tests.conftest import GOLDEN

    job = yaml.safe_load((GOLDEN / "prod/databases/reviews/job-reviews-provision.yaml").read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["DB_HOST"] == "catalog-mongos.databases.svc.cluster.local" and env["DB_PORT"] == "27017"
    assert env["DB_ADMIN_USER"] == {"secretKeyRef": {"name": "catalog-secrets", "key": "MONGODB_USER_ADMIN_USER"}}
    assert env["DB_CA_FILE"] == "/etc/db-ca/ca.crt"
    assert {"name": "db-ca", "secret": {"secretName": "catalog-ssl", "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in job["spec"]["template"]["spec"]["volumes"]
    assert container["image"] == "docker.io/library/mongo:8.0.4"
    assert not any("PASSWORD" in arg for arg in container["command"])


@pytest.mark.parametrize(("endpoint", "aws"), [(None, True), ("https://s3.eu-west-1.amazonaws.com", True),
                                               ("https://minio.internal:9000", False), ("https://amazonaws.com.evil.example", False)])
def test_rclone_signs_as_amazon_s3_expects_on_aws(endpoint: str | None, aws: bool) -> None:
    from renderer.engines.databases import _on_aws

    assert _on_aws(endpoint) is aws


def _psmdb_certificate_names(cr: dict[str, Any]) -> set[str]:
    """The names in the PSMDB operator's certificate (pkg/psmdb/tls/tls.go at v1.22.0,
    GetCertificateSans), without the multi-cluster ones."""
    name, namespace, suffix = cr["metadata"]["name"], cr["metadata"]["namespace"], cr["spec"]["clusterServiceDNSSuffix"]
    services = [f"{name}-{replset['name']}" for replset in cr["spec"]["replsets"]]
    if (cr["spec"].get("sharding") or {}).get("enabled"):
        services += [f"{name}-mongos", f"{name}-cfg"]
    return {"localhost"} | {f"{prefix}{service}{tail}" for service in services for prefix in ("", "*.")
                             for tail in ("", f".{namespace}", f".{namespace}.{suffix}")}


def test_jobs_reach_a_mongodb_cluster_by_a_name_its_certificate_carries() -> None:
    golden = tree(ROOT / "golden")
    checked = 0
    for env in ("dev", "prod"):
        namespace = "databases-dev" if env == "dev" else "databases"
        cr = yaml.safe_load(golden[f"{env}/{namespace}/catalog/perconaservermongodb-catalog.yaml"])
        names = _psmdb_certificate_names(cr)
        for path, data in golden.items():
            if path.startswith(f"{env}/") and "/reviews/" in path and ("/job-" in path or "/cronjob-" in path):
                hosts = [item["value"] for item in _containers_env(yaml.safe_load(data)) if item["name"] == "DB_HOST"]
                assert hosts and all(host in names for host in hosts), (path, hosts)
                checked += 1
    assert checked >= 4


def _containers_env(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return [item for container in spec["template"]["spec"]["containers"] for item in container.get("env") or []]


def test_rds_iam_login_is_granted_where_rds_has_it(postgresql: servers.Server) -> None:
    """A vCluster with identityProvider: aws logs in as the owner through RDS IAM: the owner gets
    rds_iam, and a server without it (not RDS) is told, not silently provisioned."""
    from renderer.engines.databases import provision_sql

    needs("psql")
    database = {"name": "team-iam", "owner": "team_iam", "extensions": []}
    script = provision_sql("postgresql", database, iam=True)
    env = {**os.environ, "PGPASSWORD": servers.ADMIN_PASSWORD, "DB_PASSWORD": "iam-password"}
    command = ["psql", "-h", "127.0.0.1", "-p", str(postgresql.port), "-U", servers.ADMIN_USER, "-d", "postgres", "-X"]
    refused = subprocess.run(command, input=script, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "no role rds_iam: identityProvider aws needs an RDS server" in refused.stderr
    admin = {"user": servers.ADMIN_USER, "password": servers.ADMIN_PASSWORD, "database": "postgres"}
    psql(postgresql, "CREATE ROLE rds_iam", **admin)
    for _ in range(2):  # idempotent
        subprocess.run(command, input=script, env=env, capture_output=True, text=True, check=True)
    assert psql(postgresql, "SELECT pg_has_role('team_iam', 'rds_iam', 'MEMBER')", **admin) == "t"
