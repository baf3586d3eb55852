"""One module per engine: each turns a cluster entry into components."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from renderer.engines import kafka, mongodb, mysql, postgresql, sqlite
from renderer.planning.components import Component, Fleet

Engine = Callable[[dict[str, Any], Fleet], Iterator[Component]]

ENGINES: dict[str, Engine] = {
    "postgresql": postgresql.render,
    "mysql": mysql.render,
    "mongodb": mongodb.render,
    "kafka": kafka.render,
    "sqlite": sqlite.render,
}
