"""Catalog rules, one family at a time."""
from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from renderer.catalog import schema as catalog_schema
from renderer.catalog.positioned import load_documents
from renderer.rules import check
from renderer.rules.formats import cron_problem


@pytest.mark.parametrize(
    "expression",
    ["0 3 * * *", "*/15 * * * *", "0 0-6/2 * * 1-5", "30 2 1,15 * *", "0 3 * JAN-MAR SUN", "@daily", "@hourly",
     "0 0 * * 0", "59 23 31 12 6"],
)
def test_cron_expressions_kubernetes_accepts(expression: str) -> None:
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 3 * *", "expected 5 fields (minute hour day month weekday), got 4"),
        ("0 0 3 * * *", "expected 5 fields (minute hour day month weekday), got 6"),
        ("60 * * * *", "'60' is out of range 0-59 in the minute field"),
        ("0 24 * * *", "'24' is out of range 0-23 in the hour field"),
        ("0 0 0 * *", "'0' is out of range 1-31 in the day of month field"),
        ("0 0 * 13 *", "'13' is out of range 1-12 in the month field"),
        ("0 0 * * 7", "'7' is out of range 0-6 in the day of week field"),
        ("0 0 * * FUN", "'FUN' is out of range 0-6 in the day of week field"),
        ("*/0 * * * *", "bad step '0' in the minute field"),
        ("5-1 * * * *", "range '5-1' runs backwards in the minute field"),
        ("1-2-3 * * * *", "cannot read '1-2-3' in the minute field"),
        ("@sometimes", "expected 5 fields (minute hour day month weekday), got 1"),
    ],
)
def test_cron_expressions_refused_with_the_reason(expression: str, reason: str) -> None:
    problem = cron_problem(expression)
    assert problem is not None and problem.endswith(reason)


def accepts(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize(("text", "ok"), [("20Gi", True), ("500m", True), ("1", True), ("1.5", True), ("2e3", True),
                                          (2, True), (0.5, True), ("20GB", False), ("one", False), ("-1Gi", False),
                                          ("", False), ("1Gi\n", False), (-1, False)])
def test_quantities(text: Any, ok: bool) -> None:
    assert accepts(catalog_schema.quantity("q"), text) is ok


@pytest.mark.parametrize(("text", "ok"), [("14d", True), ("4w", True), ("6m", True), ("0d", False), ("14", False),
                                          ("2 weeks", False), ("1y", False), ("14d\n", False)])
def test_retention_periods(text: str, ok: bool) -> None:
    assert accepts(catalog_schema.RETENTION, text) is ok


@pytest.mark.parametrize(("name", "ok"), [("orders", True), ("a", True), ("a-1", True), ("-a", False), ("a-", False),
                                          ("A", False), ("a_b", False), ("a.b", False), ("a" * 63, True), ("a" * 64, False),
                                          ("a\n", False), ("", False)])
def test_dns_labels(name: str, ok: bool) -> None:
    assert accepts(catalog_schema.dns_label("n"), name) is ok


@pytest.mark.parametrize(("name", "ok"), [("orders_app", True), ("_x", True), ("a1", True), ("1a", False), ("a-b", False),
                                          ("App", False), ("a; DROP ROLE postgres", False), ("a" * 64, False)])
def test_sql_identifiers(name: str, ok: bool) -> None:
    assert accepts(catalog_schema.sql_identifier("n"), name) is ok


def spec_problems(body: str) -> list[str]:
    docs, problems = load_documents(body, "f.yaml")
    assert problems == []
    return [str(p) for p in check(docs[0])]


def test_a_server_and_a_cluster_cannot_share_a_name() -> None:
    body = (
        "clusters: [{name: pg, engine: postgresql, version: '16', storage: {size: 1Gi}, backup: {method: none}}]\n"
        "servers: [{name: pg, engine: postgresql, host: h, adminSecret: s}]\n"
    )
    assert "f.yaml:2:12: error: servers[0].name: 'pg' is also a cluster name; databases refer to both by name, so they must differ [names]" in spec_problems(body)


def test_secret_keys_anywhere_are_refused_but_secret_references_are_not() -> None:
    body = (
        "clusters:\n"
        "  - name: pg\n"
        "    parameters: {api_key: abc, token: '', sslkey: x}\n"
        "    rest: {authSecret: jwt}\n"
        "backupStores: [{name: s, s3: {bucket: backups, endpoint: 'https://user@host', credentialsSecret: c}}]\n"
    )
    secrets = [p for p in spec_problems(body) if p.endswith("[secrets]")]
    assert secrets == [
        "f.yaml:3:18: error: clusters[0].parameters.api_key: a 'api_key' value in Git is a plaintext secret; "
        "put it in a Secret and reference the Secret by name [secrets]"
    ]


def test_vclusters_need_a_database_of_their_own_and_a_way_to_get_its_password() -> None:
    body = (
        "servers: [{name: pg, engine: postgresql, host: pg.example.com, adminSecret: admin}]\n"
        "clusters: [{name: shop, engine: mysql, version: '8.0', replicas: 3, storage: {size: 1Gi}, backup: {method: none}}]\n"
        "databases:\n"
        "  - {name: a-db, on: pg, credentialsSecret: a}\n"
        "  - {name: s-db, on: shop, credentialsSecret: s}\n"
        "vclusters:\n"
        "  - {name: a, database: a-db}\n"
        "  - {name: b, database: a-db, identityProvider: aws}\n"
        "  - {name: c, database: s-db, identityProvider: aws}\n"
        "gitops: {engine: argocd, repoURL: https://git.example.com/fleet.git}\n"
    )
    found = [p for p in spec_problems(body) if p.endswith("[vclusters]")]
    assert found == [
        "f.yaml:7:5: error: vclusters[0]: Argo CD cannot take a Helm value from a Secret, and the data source carries a "
        "password: set identityProvider: aws (RDS IAM authentication, no password), or use gitops.engine: flux (the data "
        "source then comes from a Secret through valuesFrom) [vclusters]",
        "f.yaml:7:5: warning: vclusters[0]: an external database backing store needs the vCluster Pro image and a licence; "
        "the open-source image refuses it at start-up [vclusters]",
        "f.yaml:8:15: error: vclusters[1].database: 'a-db' already backs vclusters 'a'; each vCluster needs a database of its own [vclusters]",
        "f.yaml:8:5: warning: vclusters[1]: an external database backing store needs the vCluster Pro image and a licence; "
        "the open-source image refuses it at start-up [vclusters]",
        "f.yaml:9:15: error: vclusters[2].database: 's-db' is not on a server; a vCluster's backing store is a database on one of "
        "the catalog's servers [vclusters]",
        "f.yaml:9:5: warning: vclusters[2]: an external database backing store needs the vCluster Pro image and a licence; "
        "the open-source image refuses it at start-up [vclusters]",
    ]


def test_cloudnative_pg_reserved_roles_cannot_own_a_database() -> None:
    body = (
        "clusters:\n"
        "  - name: pg\n"
        "    engine: postgresql\n"
        "    version: '16'\n"
        "    storage: {size: 1Gi}\n"
        "    backup: {method: none}\n"
        "    databases: [{name: app, owner: postgres}, {name: streaming_replica}]\n"
    )
    assert spec_problems(body) == [
        "f.yaml:7:29: error: clusters[0].databases[0].owner: CloudNativePG reserves the 'postgres' role; "
        "give the database an owner of its own [postgresql]",
        "f.yaml:7:47: error: clusters[0].databases[1].owner: CloudNativePG reserves the 'streaming_replica' role; "
        "give the database an owner of its own [postgresql]",
    ]


def test_the_url_password_check_is_linear() -> None:
    """A pattern that searched for the scheme too backtracked over every start: 12.8 s for 100 KB."""
    import time

    from renderer.rules.secrets import has_url_password

    start = time.perf_counter()
    for text in ("a" * 1_000_000, "x://" * 250_000, "a:" * 500_000):
        assert not has_url_password(text)
    assert time.perf_counter() - start < 2
    assert has_url_password("see postgres://app:s3cret@db:5432/app") and not has_url_password("https://host/a:b@c")


@pytest.mark.parametrize(("sql", "refused"), [
    ("CREATE TABLE a (x); INSERT INTO a VALUES (1);", []),
    ("CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); END;", []),  # a trigger's BEGIN ... END
    ("INSERT INTO a VALUES ('COMMIT;');", []),
    ("CREATE TABLE a (x);\nCOMMIT;\nDROP TABLE a;", ["COMMIT;"]),
    ("-- first\nBEGIN; CREATE TABLE a (x); END;", ["BEGIN;", "END;"]),
    ("CREATE TABLE a (x);\n.shell touch /tmp/x\n", [".shell touch /tmp/x"]),
])
def test_init_sql_is_sql_in_one_transaction(sql: str, refused: list[str]) -> None:
    from renderer.rules.sqlite import init_sql_problems

    problems = list(init_sql_problems(sql))
    assert len(problems) == len(refused)
    assert all(problem.startswith(repr(what)) for problem, what in zip(problems, refused))
