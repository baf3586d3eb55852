"""The restore drill of CloudNativePG's native backups, for real: a PostgreSQL server archives its
WAL and takes a base backup with barman-cloud (as the barman-cloud plugin does) into an S3 server on
loopback (moto); the rendered drill then runs as its CronJob would, with barman-cloud and this
machine's PostgreSQL in place of the cluster's image."""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from renderer.catalog.load import load
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle
from renderer.rendering.templating import Templates
from tests import servers

BUCKET, KEYS = "dbfleet-drill", {"AWS_ACCESS_KEY_ID": "drill-key", "AWS_SECRET_ACCESS_KEY": "drill-secret"}
FOLDER = "default/databases/orders"
LINE = re.compile(r"^dbfleet-drill cluster=orders backup=([0-9]{8}T[0-9]{6}) restore_seconds=([0-9]+) "
                  r"data_age_seconds=(-?[0-9]+) check=(passed|failed)$", re.M)


def tool(name: str) -> str:
    return servers._tool(name, f"{name} is not installed (CI installs Debian's barman-cli-cloud)")


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """An S3 server on loopback, with the store's bucket."""
    from moto.server import ThreadedMotoServer

    port = servers.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        client(url).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        server.stop()


def client(url: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])


def archive(url: str) -> list[str]:
    listed = client(url).list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def render(url: str, tmp: Path, query: str) -> Bundle:
    (tmp / "c.yaml").write_text(f"""\
apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata: {{name: t}}
spec:
  backupStores:
    - name: main
      s3: {{bucket: {BUCKET}, endpoint: "{url}", path: pg, credentialsSecret: s3-creds}}
  clusters:
    - name: orders
      engine: postgresql
      version: "17"
      storage: {{size: 1Gi}}
      backup: {{store: main, schedule: "0 3 * * *", drill: {{schedule: "0 5 * * 0", database: orders, query: {query!r}}}}}
      databases: [{{name: other}}, {{name: orders, owner: orders_app}}]
""")
    return render_all(load([tmp / "c.yaml"], [], tmp), Templates())


@pytest.fixture(scope="module")
def origin(s3: str) -> Iterator[servers.Server]:
    """The cluster: archiving its WAL where the plugin would (<store path>/<env>/<server name>)."""
    wal_archive = tool("barman-cloud-wal-archive")
    command = f"{wal_archive} --endpoint-url {s3} s3://{BUCKET}/pg/default orders %p"
    yield from servers.postgresql({"wal_level": "replica", "archive_mode": "on", "archive_command": command}, KEYS)


def sql(server: servers.Server, text: str, user: str = servers.ADMIN_USER, database: str = "postgres") -> str:
    done = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", user, "-d", database, "-XAt",
                           "-v", "ON_ERROR_STOP=1", "-c", text], env={**os.environ, "PGPASSWORD": servers.ADMIN_PASSWORD},
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def as_postgres() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def owned(path: Path) -> Path:
    path.mkdir(parents=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def run_drill(bundle: Bundle, root: Path, **override: str) -> subprocess.CompletedProcess[str]:
    """The CronJob's container, here: its ConfigMap as files, its Secrets from the test's keys
    (``override``: environment variables set otherwise)."""
    cronjob = yaml.safe_load(bundle.files[f"{FOLDER}/cronjob-orders-drill.yaml"])
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    scripts = owned(root / "scripts")
    for name, text in yaml.safe_load(bundle.files[f"{FOLDER}/configmap-orders-drill.yaml"])["data"].items():
        (scripts / name).write_text(text)
    # The cluster's image has PostgreSQL's programs on its PATH; Debian keeps them apart.
    server_programs = Path(servers._tool("/usr/lib/postgresql/*/bin/postgres", "PostgreSQL is not installed")).parent
    env = {"PATH": f"{server_programs}{os.pathsep}/usr/bin{os.pathsep}/bin", "SCRIPTS": str(scripts)}
    for item in container["env"]:
        env[item["name"]] = item["value"] if "value" in item else KEYS[item["valueFrom"]["secretKeyRef"]["key"]]
    env["DRILL_DIR"], env["HOME"] = str(owned(root / "scratch")), str(owned(root / "home"))
    env.update(override)
    command = [part.replace("/scripts/", f"{scripts}/") for part in container["command"]]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, **as_postgres())


@pytest.fixture
def work() -> Iterator[Path]:
    """A folder the postgres user can reach (pytest's are its owner's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="dbfleet-drill-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_drill_restores_the_newest_backup_and_the_archived_wal_checks_it_and_removes_it(
        s3: str, origin: servers.Server, work: Path) -> None:
    tmp_path = work
    tool("barman-cloud-restore")
    sql(origin, "CREATE ROLE orders_app LOGIN PASSWORD 'x'")
    sql(origin, "CREATE DATABASE orders OWNER orders_app")
    sql(origin, "SET ROLE orders_app; CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1), (2), (3)",
        database="orders")
    backup = subprocess.run([tool("barman-cloud-backup"), "--immediate-checkpoint", "--endpoint-url", s3, "-h", "127.0.0.1", "-p", str(origin.port),
                             "-U", servers.ADMIN_USER, "-d", "postgres", f"s3://{BUCKET}/pg/default", "orders"],
                            env={**os.environ, **KEYS, "PGPASSWORD": servers.ADMIN_PASSWORD}, capture_output=True,
                            text=True, **as_postgres())
    assert backup.returncode == 0, backup.stderr
    # Written after the base backup: only the WAL replay brings them back.
    sql(origin, "INSERT INTO orders VALUES (4), (5)", database="orders")
    segment = sql(origin, "SELECT pg_walfile_name(pg_switch_wal())")
    for _ in range(100):
        if sql(origin, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= segment:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"{segment} was not archived")
    archived = archive(s3)

    passed = run_drill(render(s3, tmp_path, "SELECT count(*) = 5 FROM orders"), tmp_path / "pass")
    assert passed.returncode == 0, passed.stderr
    found = LINE.search(passed.stdout)
    assert found, passed.stdout
    assert found[4] == "passed" and 0 <= int(found[3]) < 600, passed.stdout  # the replayed INSERT's age
    assert not any((tmp_path / "pass" / "scratch").iterdir()), "the restored copy was not removed"
    assert archive(s3) == archived, "the copy wrote to the cluster's archive"

    # A check that fails, and one that writes: the drill fails, and still removes the copy.
    for query, says in (("SELECT count(*) = 3 FROM orders", "check=failed"),
                        ("DELETE FROM orders", "read-only transaction"),
                        ("COMMIT; DELETE FROM orders", "read-only transaction")):
        root = tmp_path / f"fail-{len(list(tmp_path.iterdir()))}"
        failed = run_drill(render(s3, tmp_path, query), root)
        assert failed.returncode != 0 and says in failed.stdout + failed.stderr, failed.stdout + failed.stderr
        assert not any((root / "scratch").iterdir())
    assert archive(s3) == archived
    assert sql(origin, "SELECT count(*) FROM orders", database="orders") == "5"

    # No backup of the server, and no such bucket: clear failures, nothing left.
    bundle = render(s3, tmp_path, "SELECT true")
    for override, says in (({"SERVER_NAME": "orders-pg99"}, "no completed base backup of orders-pg99"),
                           ({"DESTINATION": "s3://dbfleet-no-such-bucket/pg/default"}, "dbfleet-no-such-bucket")):
        root = tmp_path / f"fail-{len(list(tmp_path.iterdir()))}"
        failed = run_drill(bundle, root, **override)
        assert failed.returncode != 0 and says in failed.stderr and "check=" not in failed.stdout, failed.stderr
        assert not any((root / "scratch").iterdir())
