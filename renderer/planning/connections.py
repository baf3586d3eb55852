"""How clients connect through xdatabase-proxy: ``<scheme>://<user>.<deployment-id>[.pool]@<proxy
host>:<port>/<database>``, for every database whose entry is proxied."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator

from renderer.engines import databases, proxy
from renderer.planning.components import owner, proxy_routes

SCHEMES = {"postgresql": "postgresql", "mysql": "mysql", "mongodb": "mongodb"}


@dataclass(frozen=True)
class Connection:
    environment: str
    entry: str
    database: str
    user: str
    deployment_id: str
    pooled: bool
    url: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def connections(spec: dict[str, Any], env: str) -> Iterator[Connection]:
    """Nothing when the proxy is not deployed; else one line per database and route."""
    settings = spec.get("proxy")
    if not settings or not settings["enabled"]:
        return
    kind, host, port = settings["databaseType"], proxy.host(settings), settings["port"]

    def lines(entry: str, deployment: str, database: str, user: str, routes: tuple[bool, ...]) -> Iterator[Connection]:
        for pooled in routes:
            route = f"{user}.{deployment}{'.pool' if pooled else ''}"
            url = f"{SCHEMES[kind]}://{route}@{host}:{port}/{database}"
            yield Connection(env, entry, database, user, deployment, pooled, url)

    for cluster in spec.get("clusters") or []:
        if cluster["engine"] == kind and cluster["proxy"]["enabled"]:
            deployment = cluster["proxy"]["deploymentId"] or cluster["name"]
            for database in cluster["databases"]:
                yield from lines(cluster["name"], deployment, database["name"], owner(database), proxy_routes(cluster))
    for database in spec.get("databases") or []:
        if database["proxy"]["enabled"] and databases.target(database["on"], spec).engine == kind:
            deployment = database["proxy"]["deploymentId"] or database["name"]
            yield from lines(database["name"], deployment, database["name"], databases.owner_of(database), (False,))
