"""Cron expressions, Kubernetes quantities, retention durations and timestamps parse."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from renderer import cron
from renderer.errors import Mark, Problem
from renderer.positioned import PMap
from renderer.rules._walk import entries, located

ID = "formats"

QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?\Z")
RETENTION = re.compile(r"[1-9][0-9]*[dwm]\Z")


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
        schedule, mark = located(entry, "backup", "schedule")
        if isinstance(schedule, str) and (reason := cron_problem(schedule)):
            yield Problem(mark, f"{where}.backup.schedule: {reason}")
        retention, mark = located(entry, "backup", "retention")
        if isinstance(retention, str) and not RETENTION.match(retention):
            yield Problem(
                mark,
                f"{where}.backup.retention: {retention!r} is not a retention period "
                "(a number of days, weeks or months: 14d, 4w, 6m)",
            )
        for path in (("storage", "size"), ("resources", "cpu"), ("resources", "memory")):
            value, mark = located(entry, *path)
            if value is not None and not QUANTITY.match(str(value)):
                yield Problem(mark, f"{where}.{'.'.join(path)}: {value!r} is not a Kubernetes quantity (such as 500m, 2, 20Gi)")
        when, mark = located(entry, "restore", "pointInTime")
        if isinstance(when, str):
            try:
                parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None or "T" not in when:
                yield Problem(
                    mark,
                    f"{where}.restore.pointInTime: {when!r} is not an RFC 3339 time with a zone "
                    "(such as 2026-11-20T10:00:00Z)",
                )
