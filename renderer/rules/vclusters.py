"""vClusters on a database of a server, and the xdatabase-proxy deployment."""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import entries, located

ID = "vclusters"



def check(spec: PMap) -> Iterator[Problem]:
    databases = {d["name"]: d for _, d in entries(spec, "databases")}
    servers = {s["name"]: s.get("engine") for _, s in entries(spec, "servers")}
    engine, _ = located(spec, "gitops", "engine")
    used: dict[str, str] = {}
    for where, vc in entries(spec, "vclusters"):
        name, mark = located(vc, "database")
        database = databases.get(name)
        if database is not None and database.get("on") not in servers:
            yield Problem(mark, f"{where}.database: {name!r} is not on a server; a vCluster's backing store is a database on one of the catalog's servers")
        elif database is not None and vc.get("identityProvider") == "aws" and servers[database["on"]] != "postgresql":
            _, provider_mark = located(vc, "identityProvider")
            yield Problem(provider_mark, f"{where}.identityProvider: dbfleet provisions RDS IAM login (GRANT rds_iam) on "
                                         "PostgreSQL servers only")
        if name in used:
            yield Problem(mark, f"{where}.database: {name!r} already backs {used[name]}; each vCluster needs a database of its own")
        used.setdefault(name, f"vclusters {vc['name']!r}")
        if engine is None:
            yield Problem(vc.mark, f"{where}: a vCluster is installed by the GitOps engine: add a gitops section")
        elif engine == "argocd" and vc.get("identityProvider") is None:
            yield Problem(
                vc.mark,
                f"{where}: Argo CD cannot take a Helm value from a Secret, and the data source carries a password: "
                "set identityProvider: aws (RDS IAM authentication, no password), or use gitops.engine: flux "
                "(the data source then comes from a Secret through valuesFrom)",
            )
        yield Problem(
            vc.mark,
            f"{where}: an external database backing store needs the vCluster Pro image and a licence; "
            "the open-source image refuses it at start-up",
            "warning",
        )
