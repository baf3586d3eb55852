"""What this version of dbfleet does not render yet: said plainly instead of ignored."""
from __future__ import annotations

from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import entries, located

ID = "engines"

RENDERED_ENGINES = {"postgresql", "mysql", "mongodb", "kafka", "sqlite"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in entries(spec, "clusters"):
        engine, mark = located(cluster, "engine")
        if engine not in RENDERED_ENGINES:
            rendered = ", ".join(sorted(RENDERED_ENGINES))
            yield Problem(mark, f"{where}.engine: {engine} clusters are not rendered by this version of dbfleet yet ({rendered} are)")
    for section in ("vclusters",):
        for where, entry in entries(spec, section):
            yield Problem(entry.mark, f"{where}: {section} are not rendered by this version of dbfleet yet")
    enabled, mark = located(spec, "proxy", "enabled")
    if enabled:
        yield Problem(mark, "proxy.enabled: the xdatabase-proxy deployment is not rendered by this version of dbfleet yet")
