"""vCluster control planes whose backing store is a database on a catalog server.

The chart's data source carries a password and the chart cannot read it from a Secret: with Flux,
the HelmRelease takes it from a Secret through ``valuesFrom`` (that Secret made by External
Secrets); Argo CD cannot, so there only RDS IAM authentication (``identityProvider: aws``) works.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator

from renderer.engines import databases
from renderer.planning.components import Component, Fleet, WAVE_CONFIG

CHART_REPOSITORY = "https://charts.loft.sh"
CHART = "vcluster"
WAVE_VCLUSTER = 3
TLS_MOUNT = "/var/lib/vcluster/db-tls"
DATA_SOURCE_PATH = "controlPlane.backingStore.database.external.dataSource"


def namespace(vcluster: dict[str, Any]) -> str:
    return str(vcluster["namespace"] or f"vcluster-{vcluster['name']}")


def data_source(t: databases.Target, database: str, user: str, password: str | None) -> str:
    """kine's data source: postgres://user:password@host:port/db?sslmode=... or
    mysql://user:password@tcp(host:port)/db."""
    credentials = f"{user}:{password}" if password is not None else user
    if t.engine == "postgresql":
        return f"postgres://{credentials}@{t.host}:{t.port}/{database}?sslmode={t.tls_mode}"
    return f"mysql://{credentials}@tcp({t.host}:{t.port})/{database}"


def merge(base: Any, extra: Any) -> Any:
    """The entry's own values win, maps merged key by key."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(base.get(key), value)
        return out
    return copy.deepcopy(extra)


def values(vcluster: dict[str, Any], t: databases.Target, database: dict[str, Any]) -> dict[str, Any]:
    external: dict[str, Any] = {"enabled": True}
    if vcluster["identityProvider"]:
        external["identityProvider"] = vcluster["identityProvider"]
        # No password: kine asks the cloud for a short-lived token as this user.
        external["dataSource"] = data_source(t, database["name"], databases.owner_of(database), None)
    statefulset: dict[str, Any] = {}
    sources = []
    if t.ca_secret:
        external["caFile"] = f"{TLS_MOUNT}/ca.crt"
        sources.append({"secret": {"name": t.ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}})
    if t.client_secret:
        external["certFile"], external["keyFile"] = f"{TLS_MOUNT}/tls.crt", f"{TLS_MOUNT}/tls.key"
        sources.append({"secret": {"name": t.client_secret, "items": [{"key": "tls.crt", "path": "tls.crt"},
                                                                       {"key": "tls.key", "path": "tls.key"}]}})
    if sources:
        # One folder for the CA and the client certificate: a projected volume of both Secrets.
        statefulset = {
            "persistence": {
                "addVolumes": [{"name": "db-tls", "projected": {"sources": sources}}],
                "addVolumeMounts": [{"name": "db-tls", "mountPath": TLS_MOUNT, "readOnly": True}],
            }
        }
    control_plane: dict[str, Any] = {"backingStore": {"database": {"external": external}}}
    if statefulset:
        control_plane["statefulSet"] = statefulset
    return dict(merge({"controlPlane": control_plane}, vcluster["values"] or {}))


def render(vcluster: dict[str, Any], spec: dict[str, Any], fleet: Fleet, gitops_engine: str, gitops_namespace: str) -> Iterator[Component]:
    name, ns = vcluster["name"], namespace(vcluster)
    database = next(d for d in spec["databases"] if d["name"] == vcluster["database"])
    t = databases.target(database["on"], spec)
    chart_values = values(vcluster, t, database)
    chart = {"name": CHART, "repository": CHART_REPOSITORY, "version": vcluster["chartVersion"]}
    if fleet.secrets and fleet.secrets["provider"] == "external-secrets":
        # The control plane mounts the server's certificates in its own namespace: put them there.
        for secret, keys in ((t.ca_secret, ["ca.crt"]), (t.client_secret, ["tls.crt", "tls.key"])):
            if secret:
                yield Component(
                    "vcluster/tls-externalsecret.yaml.j2",
                    {"namespace": ns, "name": secret, "store": fleet.secrets["store"], "keys": keys,
                     "remote_key": f"{fleet.name}/{fleet.env}/servers/{database['on']}"},
                    "credentials",
                    WAVE_CONFIG,
                    holds_data=True,
                )
    if gitops_engine == "flux":
        secret = f"{name}-datasource"
        if fleet.secrets and fleet.secrets["provider"] == "external-secrets" and not vcluster["identityProvider"]:
            password = "{{ .password | urlquery }}"
            yield Component(
                "vcluster/externalsecret.yaml.j2",
                {"namespace": ns, "name": secret, "store": fleet.secrets["store"],
                 "remote_key": f"{fleet.name}/{fleet.env}/{database['name']}",
                 "data_source": data_source(t, database["name"], databases.owner_of(database), password)},
                "credentials",
                WAVE_CONFIG,
                holds_data=True,
            )
        yield Component("vcluster/helmrepository.yaml.j2", {"namespace": ns, "chart": chart}, "vcluster", WAVE_CONFIG)
        yield Component(
            "vcluster/helmrelease.yaml.j2",
            {"namespace": ns, "name": name, "chart": chart, "values": chart_values,
             "values_from": None if vcluster["identityProvider"] else {"secret": secret, "target_path": DATA_SOURCE_PATH}},
            "vcluster",
            WAVE_VCLUSTER,
        )
    else:
        yield Component(
            "vcluster/application.yaml.j2",
            {"namespace": gitops_namespace, "name": name, "destination": ns, "chart": chart, "values": chart_values},
            "vcluster",
            WAVE_VCLUSTER,
        )
