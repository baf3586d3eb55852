"""Cron expressions and timestamps parse (the catalog's schema checks the simpler formats)."""
from __future__ import annotations

import functools
from datetime import datetime
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Mark, Problem
from renderer.kube import cron
from renderer.rules._walk import entries, located

ID = "formats"



@functools.lru_cache(maxsize=256)  # a fleet repeats a few schedules: 1,000 clusters, one or two
def cron_problem(expression: str) -> str | None:
    try:
        cron.parse(expression)
    except cron.CronError as exc:
        return str(exc)
    return None


def check(spec: PMap) -> Iterator[Problem]:
    reported: set[Mark] = set()
    for problem in _check(spec):
        # A bad default is inherited by many entries: say it once, where it is written.
        if problem.mark not in reported:
            reported.add(problem.mark)
            yield problem


def _check(spec: PMap) -> Iterator[Problem]:
    sections = [(w, e) for s in ("clusters", "databases") for w, e in entries(spec, s)]
    if isinstance(spec.get("defaults"), PMap):
        sections.insert(0, ("defaults", spec["defaults"]))
    for where, entry in sections:
        schedules: tuple[tuple[str, ...], ...] = (("backup", "schedule"), ("backup", "drill", "schedule"))
        for schedule_path in schedules:
            schedule, mark = located(entry, *schedule_path)
            if isinstance(schedule, str) and (reason := cron_problem(schedule)):
                yield Problem(mark, f"{where}.{'.'.join(schedule_path)}: {reason}")
        for path in (("restore", "pointInTime"), ("restartedAt",)):
            when, mark = located(entry, *path)
            if isinstance(when, str) and not _rfc3339(when):
                yield Problem(mark, f"{where}.{'.'.join(path)}: {when!r} is not an RFC 3339 time with a zone "
                                    "(such as 2026-11-20T10:00:00Z)")


def _rfc3339(when: str) -> bool:
    try:
        parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None and "T" in when
