"""Entries without any backup settings: rendered without backups, and said so."""
from __future__ import annotations

from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import entries

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
