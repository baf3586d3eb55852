"""xdatabase-proxy v2.0.0 routes PostgreSQL only (MySQL and MongoDB are "planned" in its README),
and dials the databases behind it in plain TCP."""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import entries, located

ID = "proxy"

ROUTED = {"postgresql"}


def _enabled(entry: PMap) -> bool:
    return isinstance(entry.get("proxy"), PMap) and entry["proxy"].get("enabled") is True


def check(spec: PMap) -> Iterator[Problem]:
    clusters = {c["name"]: c for _, c in entries(spec, "clusters")}
    servers = {s["name"]: s for _, s in entries(spec, "servers")}
    for where, cluster in entries(spec, "clusters"):
        if not _enabled(cluster):
            continue
        _, mark = located(cluster, "proxy", "enabled")
        engine = cluster.get("engine")
        if engine not in ROUTED and engine not in ("kafka", "sqlite"):  # those two say why themselves
            yield Problem(mark, f"{where}.proxy: xdatabase-proxy v2.0.0 routes PostgreSQL only, not {engine}")
        elif engine == "postgresql" and _tls_only(cluster) and not _pooled(cluster):
            yield Problem(mark, f"{where}.proxy: xdatabase-proxy v2.0.0 connects in plain TCP, which this cluster refuses "
                                "(tls.enabled); enable the pooler, which the proxy then reaches and which connects "
                                "with TLS, or turn tls off")
    for where, database in entries(spec, "databases"):
        target = servers.get(database.get("on")) or clusters.get(database.get("on"))
        engine = target.get("engine") if isinstance(target, PMap) else None
        if _enabled(database) and engine not in ROUTED:
            _, mark = located(database, "proxy", "enabled")
            yield Problem(mark, f"{where}.proxy: xdatabase-proxy v2.0.0 routes PostgreSQL only, not {engine}")
    database_type, mark = located(spec, "proxy", "databaseType")
    if database_type is not None and database_type not in ROUTED:
        yield Problem(mark, f"proxy.databaseType: xdatabase-proxy v2.0.0 routes PostgreSQL only, not {database_type}")


def _tls_only(cluster: PMap) -> bool:
    return isinstance(cluster.get("tls"), PMap) and cluster["tls"].get("enabled") is True


def _pooled(cluster: PMap) -> bool:
    return isinstance(cluster.get("pooler"), PMap) and cluster["pooler"].get("enabled") is True
