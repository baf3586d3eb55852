"""A vCluster's chart values as the catalog gives them (``vclusters[].values``), checked against the
chart's values schema where they are written: a wrong type or an unknown key is the catalog's
error, at its line, not only the rendered HelmRelease's (whose check, of these values merged over
dbfleet's own, stays: it also covers chart versions dbfleet does not embed)."""
from __future__ import annotations

import functools
import re

from renderer.catalog.nodes import PMap
from renderer.catalog.schema import CATALOG_SCHEMA
from renderer.catalog.schema_errors import schema_problems
from renderer.errors import Problem
from renderer.schemas.compiled import Compiled

# What dbfleet's own values, merged under the entry's, may satisfy: judged on the merged values only.
MERGED_ONLY = frozenset({"required", "dependentRequired", "dependencies", "oneOf", "anyOf", "allOf", "not", "if",
                         "minProperties"})
_VERSION = CATALOG_SCHEMA["properties"]["spec"]["properties"]["vclusters"]["items"]["properties"]["chartVersion"]
DEFAULT_VERSION = _VERSION["default"]
_VERSION_FORM = re.compile(_VERSION["pattern"])  # (one the format check refused names no file here)


def problems(spec: PMap) -> list[Problem]:
    found: list[Problem] = []
    for index, vcluster in enumerate(spec.get("vclusters") or []):
        values = vcluster.get("values") if isinstance(vcluster, PMap) else None
        if not isinstance(values, PMap) or not values:
            continue
        version = vcluster.get("chartVersion") or DEFAULT_VERSION
        validator = _validator(version) if isinstance(version, str) and _VERSION_FORM.match(version) else None
        if validator is None:
            continue
        structure, formats = schema_problems(values, validator, ("vclusters", index, "values"), ignored=MERGED_ONLY)
        found += [problem._replace(message=f"{problem.message} (the vcluster chart {version}'s values schema)")
                  for problem in structure + formats]
    return found


@functools.lru_cache(maxsize=4)
def _validator(version: str) -> Compiled | None:
    """The embedded values schema of this chart version; None for another version (the rendered
    object's check finds it along the user's --chart-schema-location)."""
    from renderer.engines.vcluster import CHART
    from renderer.schemas import CHART_LAYOUT, EMBEDDED_CHARTS, SchemaNotFound, SchemaSearch

    try:
        schema = SchemaSearch([], CHART_LAYOUT, EMBEDDED_CHARTS, "--chart-schema-location").find(
            {"chart": CHART, "version": version}, f"no values schema for the {CHART} chart {version}")
    except SchemaNotFound:
        return None
    return Compiled(schema)
