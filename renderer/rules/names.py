"""Names are DNS-1123 labels, unique per kind; SQL identifiers are plain lower-case words."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import entries, located

ID = "names"

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# Refused, not quoted away: these names become role and database names and Kubernetes names.
SQL_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*\Z")
RESERVED_FOLDER = "gitops"
SECTIONS = ("backupStores", "clusters", "servers", "databases", "vclusters")


def dns_label_problem(value: str) -> str | None:
    if len(value) > 63:
        return f"{value!r} is longer than 63 characters"
    if not DNS_LABEL.match(value):
        return (
            f"{value!r} is not a DNS-1123 label (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit)"
        )
    return None


def check(spec: PMap) -> Iterator[Problem]:
    for section in SECTIONS:
        for where, entry in entries(spec, section):
            for key in ("name", "namespace"):
                value, mark = located(entry, key)
                if isinstance(value, str) and (reason := dns_label_problem(value)):
                    yield Problem(mark, f"{where}.{key}: {reason}")
            namespace, mark = located(entry, "namespace")
            if namespace == RESERVED_FOLDER:
                yield Problem(mark, f"{where}.namespace: {RESERVED_FOLDER!r} is the folder of the GitOps objects; choose another namespace")
            deployment, mark = located(entry, "proxy", "deploymentId")
            if isinstance(deployment, str) and (reason := dns_label_problem(deployment)):
                yield Problem(mark, f"{where}.proxy.deploymentId: {reason}")
    for where, cluster in entries(spec, "clusters"):
        for i, database in enumerate(cluster.get("databases") or []):
            for key in ("name", "owner"):
                value, mark = located(database, key)
                if isinstance(value, str) and not (SQL_IDENTIFIER.match(value) and len(value) <= 63):
                    yield Problem(
                        mark,
                        f"{where}.databases[{i}].{key}: {value!r} must be a lower-case SQL "
                        "identifier of at most 63 characters (letters, digits, '_')",
                    )
    for section in ("defaults", "proxy", "gitops"):
        value, mark = located(spec, section, "namespace")
        if isinstance(value, str) and (reason := dns_label_problem(value)):
            yield Problem(mark, f"{section}.namespace: {reason}")
    clusters = {c["name"]: c for _, c in entries(spec, "clusters")}
    for where, database in entries(spec, "databases"):
        same_name = clusters.get(database["name"])
        if same_name is not None and same_name.get("namespace") == database.get("namespace"):
            _, mark = located(database, "name")
            yield Problem(mark, f"{where}.name: {database['name']!r} is also a cluster in namespace "
                                f"{database.get('namespace')!r}; both would be written to one folder")
    for where, server in entries(spec, "servers"):
        if server["name"] in clusters:
            _, mark = located(server, "name")
            yield Problem(
                mark,
                f"{where}.name: {server['name']!r} is also a cluster name; databases refer to "
                "both by name, so they must differ",
            )
