"""Entries without any backup settings: rendered without backups, and said so; backup settings
that only some engines have."""
from __future__ import annotations

from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import backup_method, entries, located

ID = "backups"

NO_BACKUPS = {"kafka"}  # keeps its data by replication; a backup is refused there


def check(spec: PMap) -> Iterator[Problem]:
    for section in ("clusters", "databases"):
        for where, entry in entries(spec, section):
            if "backup" not in entry and entry.get("engine") not in NO_BACKUPS:
                yield Problem(
                    entry.mark,
                    f"{where} ({entry['name']}) has no backup: its data is not backed up; give it "
                    "backup: {store: <a backupStores name>} (or a fleet default, defaults.backup), or "
                    "backup: {method: none} to say so",
                    "warning",
                )
            yield from _engine_settings(section, where, entry)


def _engine_settings(section: str, where: str, entry: PMap) -> Iterator[Problem]:
    engine = entry.get("engine") if section == "clusters" else "database"
    server_name, mark = located(entry, "backup", "serverName")
    if server_name is not None and engine != "postgresql":
        yield Problem(mark, f"{where}.backup.serverName: only PostgreSQL clusters name their archive folder "
                            "(barman-cloud's serverName); remove it")
    on_demand, mark = located(entry, "backup", "onDemand")
    if on_demand is None:
        return
    if engine == "sqlite":
        yield Problem(mark, f"{where}.backup.onDemand: Litestream replicates every change as it happens; there is no "
                            "backup to ask for")
    elif backup_method(entry, "native" if section == "clusters" else "dump")[0] == "none" or (
            section == "databases" and not located(entry, "backup", "store")[0]):
        yield Problem(mark, f"{where}.backup.onDemand: the {section[:-1]} has no backups to take: give it backup.store")
    elif section == "clusters" and backup_method(entry, "native")[0] != "native":
        yield Problem(mark, f"{where}.backup.onDemand: on-demand backups of a cluster are the operator's (method native)")
