"""vClusters on the shared server, the xdatabase-proxy deployment, and `dbfleet connections`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from renderer.rendering.render import RenderedObject
from renderer.validate import Validators
from tests.conftest import GOLDEN, ROOT, run, tree


def golden(path: str) -> Any:
    return yaml.safe_load((GOLDEN / path).read_text())


def test_flux_takes_the_data_source_from_a_secret_made_by_external_secrets() -> None:
    release = golden("dev/vcluster-team-b/team-b/helmrelease-team-b.yaml")
    assert release["spec"]["chart"]["spec"] == {
        "chart": "vcluster", "version": "0.36.1", "sourceRef": {"kind": "HelmRepository", "name": "loft"}}
    assert release["spec"]["valuesFrom"] == [{
        "kind": "Secret", "name": "team-b-datasource", "valuesKey": "dataSource",
        "targetPath": "controlPlane.backingStore.database.external.dataSource"}]
    external = release["spec"]["values"]["controlPlane"]["backingStore"]["database"]["external"]
    assert external == {"enabled": True, "caFile": "/var/lib/vcluster/db-tls/ca.crt"}  # no password in Git
    assert release["spec"]["values"]["controlPlane"]["statefulSet"]["persistence"]["addVolumes"] == [
        {"name": "db-tls", "projected": {"sources": [{"secret": {"name": "shared-pg-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}]
    assert release["spec"]["values"]["controlPlane"]["statefulSet"]["resources"] == {"requests": {"cpu": "200m", "memory": "512Mi"}}
    secret = golden("dev/vcluster-team-b/team-b/externalsecret-team-b-datasource.yaml")
    assert secret["spec"]["target"]["template"]["data"]["dataSource"] == (
        "postgres://team_b_db:{{ .password | urlquery }}@pg.dev.internal.example.com:5432/team-b-db?sslmode=verify-full")
    [item] = secret["spec"]["data"]
    assert item["secretKey"] == "password"
    assert (item["remoteRef"]["key"], item["remoteRef"]["property"]) == ("acme/dev/team-b-db", "password")
    assert golden("dev/vcluster-team-b/team-b/helmrepository-loft.yaml")["spec"]["url"] == "https://charts.loft.sh"


def test_argo_cd_installs_the_chart_with_rds_iam_and_no_password() -> None:
    application = golden("prod/vcluster-team-a/team-a/application-team-a.yaml")
    source = application["spec"]["source"]
    assert (source["repoURL"], source["chart"], source["targetRevision"]) == ("https://charts.loft.sh", "vcluster", "0.36.1")
    external = source["helm"]["valuesObject"]["controlPlane"]["backingStore"]["database"]["external"]
    assert external["identityProvider"] == "aws"
    assert external["dataSource"] == "postgres://team_a_db@pg.internal.example.com:5432/team-a-db?sslmode=verify-full"
    assert application["spec"]["destination"]["namespace"] == "vcluster-team-a"
    assert application["metadata"]["namespace"] == "argocd"


def test_each_vcluster_has_its_own_database_and_user_on_the_shared_server() -> None:
    for team in ("team-a", "team-b"):
        sql = golden(f"prod/databases/{team}-db/configmap-{team}-db-scripts.yaml")["data"]["provision.sql"]
        assert f'CREATE DATABASE %I OWNER %I\', \'{team}-db\', \'{team.replace("-", "_")}_db\'' in sql


def test_chart_values_are_validated_against_the_charts_schema() -> None:
    release = golden("dev/vcluster-team-b/team-b/helmrelease-team-b.yaml")
    release["spec"]["values"]["controlPlane"]["backingStore"]["database"]["external"]["dataSorce"] = "x"
    validators = Validators()
    problems = validators.validate([RenderedObject("helmrelease.yaml", release)])
    assert [p.message for p in problems] == [
        "HelmRelease/team-b: spec.values.controlPlane.backingStore.database.external: "
        "Additional properties are not allowed ('dataSorce' was unexpected)"
    ]


def test_the_proxy_has_least_privilege() -> None:
    folder = "prod/xdatabase-proxy/xdatabase-proxy"
    assert golden(f"{folder}/clusterrole-xdatabase-proxy.yaml")["rules"] == [
        {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}]
    role = golden(f"{folder}/role-xdatabase-proxy.yaml")
    assert role["metadata"]["namespace"] == "xdatabase-proxy"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["xdatabase-proxy-tls"], "verbs": ["get", "update"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    deployment = golden(f"{folder}/deployment-xdatabase-proxy.yaml")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["DATABASE_TYPE"] == "postgresql" and env["TLS_MODE"] == "kubernetes"
    assert env["TLS_SECRET_NAME"] == "xdatabase-proxy-tls" and env["PROXY_START_PORT"] == "5432"
    assert env["NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert container["image"] == "ghcr.io/hasirciogluhq/xdatabase-proxy:v2.0.0"
    assert (container["livenessProbe"]["httpGet"]["path"], container["readinessProbe"]["httpGet"]["path"]) == ("/health", "/ready")
    assert deployment["spec"]["replicas"] == 2 and pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert golden(f"{folder}/poddisruptionbudget-xdatabase-proxy.yaml")["spec"]["maxUnavailable"] == 1


def test_connections_through_the_proxy(workdir: Path) -> None:
    result = run("connections", "--env", "prod")
    assert result.exit_code == 0, result.output
    # orders refuses plain connections (tls.enabled): the proxy reaches it through its pooler only.
    assert result.stdout.splitlines() == [
        "prod\tpostgresql://orders_app.orders.pool@xdatabase-proxy.xdatabase-proxy.svc:5432/orders",
        "prod\tpostgresql://orders_app.orders.pool@xdatabase-proxy.xdatabase-proxy.svc:5432/orders_audit",
        "prod\tpostgresql://billing_app.billing@xdatabase-proxy.xdatabase-proxy.svc:5432/billing",
        "prod\tpostgresql://invoices_app.invoices@xdatabase-proxy.xdatabase-proxy.svc:5432/invoices",
        "prod\tpostgresql://metrics.metrics@xdatabase-proxy.xdatabase-proxy.svc:5432/metrics",
    ]
    report = json.loads(run("connections", "--env", "dev", "--output", "json").stdout)
    assert report["connections"][0] == {
        "environment": "dev", "entry": "orders", "database": "orders", "user": "orders_app", "deployment_id": "orders",
        "pooled": True, "url": "postgresql://orders_app.orders.pool@xdatabase-proxy.xdatabase-proxy.svc:5432/orders"}
    # Every route a client is told of is a Service the proxy finds, and no other.
    for env in ("dev", "prod"):
        routes = {(c["deployment_id"], c["pooled"]) for c in json.loads(run("connections", "--env", env, "--output", "json").stdout)["connections"]}
        services = {(labels["xdatabase-proxy-deployment-id"], labels["xdatabase-proxy-pooled"] == "true")
                    for path, data in tree(ROOT / "golden" / env).items() if "/service-" in path
                    for labels in [yaml.safe_load(data)["metadata"]["labels"]] if "xdatabase-proxy-enabled" in labels}
        assert routes == services, env


def test_connections_without_a_proxy_is_an_error(workdir: Path) -> None:
    servers = workdir / "catalog" / "servers.yaml"
    servers.write_text(servers.read_text().replace("  proxy:                               # the xdatabase-proxy deployment in front of the fleet\n    enabled: true",
                                                   "  proxy:\n    enabled: false"))
    result = run("connections")
    assert result.exit_code == 2
    assert "no proxied database" in result.stderr


def test_a_client_certificate_reaches_kine_through_the_same_volume() -> None:
    from renderer.engines import databases, vcluster

    t = databases.Target("mysql", "10.0.0.5", 3306, "admin", "username", "password", None, "verify-full", "ca", "client")
    values = vcluster.values({"identityProvider": None, "values": None}, t, {"name": "vc-db", "owner": None})
    external = values["controlPlane"]["backingStore"]["database"]["external"]
    assert (external["caFile"], external["certFile"], external["keyFile"]) == (
        "/var/lib/vcluster/db-tls/ca.crt", "/var/lib/vcluster/db-tls/tls.crt", "/var/lib/vcluster/db-tls/tls.key")
    sources = values["controlPlane"]["statefulSet"]["persistence"]["addVolumes"][0]["projected"]["sources"]
    assert [s["secret"]["name"] for s in sources] == ["ca", "client"]
    validators = Validators()
    schema = validators.validator("helm-chart-values/vcluster", "0.36.1")
    assert not isinstance(schema, Exception) and list(schema.iter_errors(values)) == []
