"""No two environments, and no two entries, share state outside the cluster: read off the rendered
objects themselves (what the operators will write to), and refused in the catalog."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from renderer.planning.locations import Location, backup_location
from renderer.rendering.render import Bundle
from tests.conftest import run, tree


def _objects(files: dict[str, bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, data in files.items():
        if path.endswith(".yaml") and not path.endswith("kustomization.yaml"):
            yield path, yaml.safe_load(data)


def written_locations(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """(folder, object) for every place a rendered object makes an operator or a job write backups."""
    objects = list(_objects(files))
    stores = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for _, o in objects if o["kind"] == "ObjectStore"}
    found = []
    for path, obj in objects:
        kind, spec = obj["kind"], obj.get("spec") or {}
        if kind == "Cluster":  # CloudNativePG: the WAL archiver's ObjectStore, under the server name
            for plugin in spec.get("plugins") or []:
                if plugin.get("isWALArchiver"):
                    parameters = plugin["parameters"]
                    store = stores[(obj["metadata"]["namespace"], parameters["barmanObjectName"])]
                    server = parameters.get("serverName", obj["metadata"]["name"])
                    found.append((f"{store['spec']['configuration']['destinationPath']}/{server}", path))
        elif kind in ("PerconaXtraDBCluster", "PerconaServerMongoDB"):
            backup = spec.get("backup") or {}
            used = {task["storageName"] for task in (backup.get("schedule") or []) + (backup.get("tasks") or [])}
            used |= {backup["pitr"]["storageName"]} if "storageName" in (backup.get("pitr") or {}) else set()
            for name in used:
                storage = backup["storages"][name]
                settings = storage[storage["type"]]
                found.append((f"{storage['type']}://{settings.get('bucket', settings.get('container'))}/{settings['prefix']}", path))
        elif kind == "ConfigMap" and "litestream.yml" in (obj.get("data") or {}):
            for database in yaml.safe_load(obj["data"]["litestream.yml"])["dbs"]:
                if "replica" in database:
                    replica = database["replica"]
                    found.append((f"{replica['type']}://{replica.get('bucket', '')}/{replica['path']}", path))
        elif kind == "CronJob":  # the dumps (a restore drill's CronJob reads them)
            for container in spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
                if container["name"] != "backup":
                    continue
                found += [(item["value"], path) for item in container.get("env") or [] if item["name"] == "BACKUP_PATH"]
    return found


def test_every_backup_folder_is_its_environments_and_its_entrys_own(example_bundle: Bundle) -> None:
    found = written_locations(example_bundle.files)
    assert len(found) >= 12
    for folder, path in found:
        env, entry = path.split("/")[0], path.split("/")[2]
        assert folder.split("/")[-2:] == [env, entry], (folder, path)
    folders = sorted(folder.rstrip("/") + "/" for folder, _ in found)
    for first, second in zip(folders, folders[1:]):
        assert not second.startswith(first), f"{first} holds {second}"


def test_a_folder_is_held_by_each_of_its_parents_in_its_bucket() -> None:
    assert [str(o) for o in Location("s3", "b", ("db", "dev", "x")).outer()] == ["s3://b/db", "s3://b/db/dev"]
    assert list(Location("s3", "b", ("dev",)).outer()) == []


def test_a_store_path_gets_the_environment_and_the_entry() -> None:
    store = {"s3": {"bucket": "bkp", "path": "/team/db/"}}
    assert str(backup_location(store, "dev", "orders")) == "s3://bkp/team/db/dev/orders"
    azure = {"azure": {"storageAccount": "acct", "container": "c", "path": None}}
    assert str(backup_location(azure, "prod", "x")) == "azure://acct/c/prod/x"


FLEET = """\
apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata:
  name: acme
spec:
  backupStores:
    - name: main
      s3: {bucket: bkp, path: db}
    - name: deep
      s3: {bucket: bkp, path: db/dev/orders}
  servers:
    - {name: pg, engine: postgresql, host: pg.example.com, adminSecret: pg-admin}
    - {name: pg-alias, engine: postgresql, host: PG.example.com, port: 5432, adminSecret: pg-admin}
  clusters:
    - {name: orders, engine: postgresql, version: "16", storage: {size: 1Gi}, backup: {store: main}}
    - name: shop
      engine: mysql
      version: "8.0"
      replicas: 3
      storage: {size: 1Gi}
      backup: {store: deep}
  databases:
    - {name: billing, on: pg, credentialsSecret: billing, backup: {method: none}}
    - {name: ledger, on: pg-alias, owner: billing, credentialsSecret: ledger, backup: {method: none}}
  secrets: {provider: external-secrets, store: {kind: ClusterSecretStore, name: vault}}
"""
OVERLAY = """\
apiVersion: dbfleet.dev/v1alpha1
kind: Overlay
metadata:
  name: {env}
spec: {{}}
"""


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for folder in ("catalog", "overlays"):
        (tmp_path / folder).mkdir()
    (tmp_path / "catalog" / "fleet.yaml").write_text(FLEET)
    for env in ("dev", "prod"):
        (tmp_path / "overlays" / f"{env}.yaml").write_text(OVERLAY.format(env=env))
    return tmp_path


def test_shared_state_is_refused_naming_both_sides(fleet: Path) -> None:
    result = run("render")
    assert result.exit_code == 2
    hint = ("; give each environment its own server (an overlay can change servers[].host) or database, or say shared: "
            "true on the entry if the environments share it on purpose")
    assert result.stderr.splitlines() == [
        "catalog/fleet.yaml:21:16: error: clusters[1].backup.store: shop in dev would write its backups to "
        "s3://bkp/db/dev/orders/dev/shop, inside the folder of clusters[0] (orders) in dev, catalog/fleet.yaml:15:88 "
        "(s3://bkp/db/dev/orders)",
        "catalog/fleet.yaml:21:16: error: clusters[1].backup.store: shop in prod would write its backups to "
        "s3://bkp/db/dev/orders/prod/shop, inside the folder of clusters[0] (orders) in dev, catalog/fleet.yaml:15:88 "
        "(s3://bkp/db/dev/orders)",
        f"catalog/fleet.yaml:23:8: error: databases[0]: dev and prod would both provision the database 'billing' and the "
        f"role 'billing' on pg.example.com:5432{hint}",
        f"catalog/fleet.yaml:24:8: error: databases[1]: dev and prod would both provision the database 'ledger' on "
        f"pg.example.com:5432{hint}",
        f"catalog/fleet.yaml:24:8: error: databases[1]: ledger in dev would provision the role 'billing' on pg.example.com:5432, "
        f"as databases[0] (billing) in dev, catalog/fleet.yaml:23:8 does{hint}",
        f"catalog/fleet.yaml:24:8: error: databases[1]: ledger in prod would provision the role 'billing' on pg.example.com:5432, "
        f"as databases[0] (billing) in dev, catalog/fleet.yaml:23:8 does{hint}",
        "6 errors",
    ]
    assert not (fleet / "rendered").exists()


def test_what_the_catalog_shares_on_purpose_renders_with_one_password(fleet: Path) -> None:
    _share_billing(fleet / "catalog" / "fleet.yaml")
    result = run("render")
    assert result.exit_code == 0, result.output
    for env in ("dev", "prod"):
        secret = yaml.safe_load(tree(fleet / "rendered")[f"{env}/databases/billing/externalsecret-billing.yaml"])
        assert {item["remoteRef"]["key"] for item in secret["spec"]["data"]} == {"acme/shared/billing"}


def _share_billing(catalog: Path) -> None:
    """The fleet without its conflicts: shop has no backups, billing is shared, ledger is gone."""
    text = catalog.read_text().replace("backup: {store: deep}", "backup: {method: none}")
    text = text.replace("{name: billing, on: pg, credentialsSecret: billing,", "{name: billing, on: pg, credentialsSecret: billing, shared: true,")
    catalog.write_text(text.replace("    - {name: ledger, on: pg-alias, owner: billing, credentialsSecret: ledger, backup: {method: none}}\n", ""))


def test_a_restore_reads_another_environments_backups_and_never_writes_there(fleet: Path) -> None:
    catalog = fleet / "catalog" / "fleet.yaml"
    _share_billing(catalog)
    catalog.write_text(catalog.read_text().replace("backup: {store: main}}", "backup: {store: main}, restore: {fromStore: main}}"))
    refused = run("render")
    assert refused.exit_code == 2
    assert ("clusters[0].restore: the new cluster would archive into the backups it restores from (s3://bkp/db/dev/orders); "
            "give it another name, another backup store, or restore from another environment") in refused.stderr
    catalog.write_text(catalog.read_text().replace(", restore: {fromStore: main}", ""))
    dev = fleet / "overlays" / "dev.yaml"
    dev.write_text(dev.read_text().replace("spec: {}", "spec:\n  clusters:\n    - name: orders\n      restore: {fromStore: main, environment: prod}"))
    result = run("render", "--env", "dev")
    assert result.exit_code == 0, result.output
    files = tree(fleet / "rendered" / "dev" / "databases" / "orders")
    own, source = (yaml.safe_load(files[f"objectstore-{name}.yaml"]) for name in ("orders-main", "orders-main-prod"))
    assert own["spec"]["configuration"]["destinationPath"] == "s3://bkp/db/dev"
    assert source["spec"]["configuration"]["destinationPath"] == "s3://bkp/db/prod"
    assert "retentionPolicy" not in source["spec"]
    cluster = yaml.safe_load(files["cluster-orders.yaml"])
    assert cluster["spec"]["plugins"][0]["parameters"] == {"barmanObjectName": "orders-main"}
    assert cluster["spec"]["externalClusters"][0]["plugin"]["parameters"] == {"barmanObjectName": "orders-main-prod", "serverName": "orders"}


def test_every_consumer_reads_a_stores_secret_under_the_keys_the_operators_hard_code(example_bundle: Bundle) -> None:
    """PXC and PSMDB read AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (pkg/pxc/backup/job.go,
    pkg/psmdb/backup/pbm.go): a Secret made for one consumer must serve them all."""
    from renderer.planning.locations import STORE_SECRET_KEYS

    def refs(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and isinstance(node.get("key"), str):
                yield node["name"], node["key"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    read: dict[str, set[str]] = {}
    for _, obj in _objects(example_bundle.files):
        for name, key in refs(obj):
            read.setdefault(name, set()).add(key)
    assert read["s3-backup-creds"] == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} == set(STORE_SECRET_KEYS["s3"].values())
    assert read["gcs-backup-creds"] <= set(STORE_SECRET_KEYS["gcs"].values())
    assert STORE_SECRET_KEYS["azure"] == {"account": "AZURE_STORAGE_ACCOUNT_NAME", "key": "AZURE_STORAGE_ACCOUNT_KEY"}


IDENTITIES = {
    "aws": ("s3: {bucket: acme-irsa, region: eu-west-1", 'identity: {aws: {roleArn: "arn:aws:iam::123456789012:role/db"}}',
            {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/db"}, {}, {"s3Credentials": {"inheritFromIAMRole": True}}),
    "gcp": ("gcs: {bucket: acme-wi", "identity: {gcp: {serviceAccount: db-backup@acme-prod.iam.gserviceaccount.com}}",
            {"iam.gke.io/gcp-service-account": "db-backup@acme-prod.iam.gserviceaccount.com"}, {},
            {"googleCredentials": {"gkeEnvironment": True}}),
    "azure": ("azure: {container: acme, storageAccount: acmeblob", "identity: {azure: {clientId: 00000000-1111-2222-3333-444444444444}}",
              {"azure.workload.identity/client-id": "00000000-1111-2222-3333-444444444444"},
              {"azure.workload.identity/use": "true"}, {"azureCredentials": {"inheritFromAzureAD": True}}),
}


@pytest.mark.parametrize("cloud", sorted(IDENTITIES))
def test_a_store_with_a_cloud_identity_is_used_through_a_service_account(
        cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, identity, annotations, labels, credentials = IDENTITIES[cloud]
    percona = """
    - {name: shop, engine: mysql, version: "8.0", replicas: 3, storage: {size: 1Gi}, backup: {store: cloud}}
    - {name: catalog, engine: mongodb, version: "7.0", replicas: 3, storage: {size: 1Gi}, backup: {store: cloud}}""" \
        if cloud == "aws" else ""  # the Percona operators read Azure and GCS keys from a Secret
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "fleet.yaml").write_text(f"""apiVersion: dbfleet.dev/v1alpha1
kind: Catalog
metadata: {{name: acme}}
spec:
  backupStores:
    - {{name: cloud, {store}, {identity}}}}}
  servers:
    - {{name: pg, engine: postgresql, host: pg.example.com, adminSecret: pg-admin}}
  clusters:
    - {{name: orders, engine: postgresql, version: "17", storage: {{size: 1Gi}}, databases: [{{name: orders}}],
       backup: {{store: cloud, drill: {{schedule: "0 5 * * 0", query: "SELECT true"}}}}}}
    - {{name: sessions, engine: sqlite, storage: {{size: 1Gi}}, sqlite: {{file: s.db}},
       backup: {{store: cloud, drill: {{schedule: "0 5 * * 0", query: "SELECT true"}}}}}}{percona}
  databases:
    - {{name: billing, on: pg, credentialsSecret: billing-owner, backup: {{store: cloud}}, restore: {{fromStore: cloud}}}}
""")
    monkeypatch.chdir(tmp_path)
    result = run("render")
    assert result.exit_code == 0, result.stderr
    objects = {path.split("/", 2)[2]: obj for path, obj in _objects(tree(tmp_path / "rendered"))}
    account = objects["serviceaccount-backup-store-cloud.yaml"]
    assert {k: v for k, v in account["metadata"]["annotations"].items() if "sync-wave" not in k} == annotations
    pods = [objects["billing/cronjob-billing-backup.yaml"]["spec"]["jobTemplate"]["spec"]["template"],
            objects["billing/job-billing-restore.yaml"]["spec"]["template"],
            objects["sessions/statefulset-sessions.yaml"]["spec"]["template"],
            # The restore drills read the store as the namespace's ServiceAccount, not CloudNativePG's.
            objects["orders/cronjob-orders-drill.yaml"]["spec"]["jobTemplate"]["spec"]["template"],
            objects["sessions/cronjob-sessions-drill.yaml"]["spec"]["jobTemplate"]["spec"]["template"]]
    for pod in pods:
        assert pod["spec"]["serviceAccountName"] == "backup-store-cloud"
        assert labels.items() <= (pod.get("metadata", {}).get("labels") or {}).items()
        env = [item for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
               for item in container.get("env") or []]
        # No keys: the credentials come with the identity (rclone's env_auth, Litestream's and barman-cloud's SDKs).
        assert not [item for item in env if "valueFrom" in item
                    and item["name"].startswith(("RCLONE_", "LITESTREAM_", "AWS_", "AZURE_", "GOOGLE_"))]
        assert not [volume for volume in pod["spec"].get("volumes") or [] if "secret" in volume]
    drill = objects["orders/cronjob-orders-drill.yaml"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    # barman-cloud as the plugin runs it for an ObjectStore that inherits from Azure AD.
    assert {item["name"]: item.get("value") for item in drill["env"]}.get("AZURE_CREDENTIAL") == (
        "managed-identity" if cloud == "azure" else None)
    cluster = objects["orders/cluster-orders.yaml"]["spec"]
    assert cluster["serviceAccountTemplate"] == {"metadata": {"annotations": annotations}}
    assert cluster.get("inheritedMetadata", {}).get("labels", {}) == labels
    store = next(o for p, o in objects.items() if p.startswith("orders/objectstore-"))
    assert credentials.items() <= store["spec"]["configuration"].items()
    if percona:
        assert objects["shop/perconaxtradbcluster-shop.yaml"]["spec"]["backup"]["serviceAccountName"] == "backup-store-cloud"
        assert objects["catalog/perconaservermongodb-catalog.yaml"]["spec"]["replsets"][0]["serviceAccountName"] == "backup-store-cloud"
