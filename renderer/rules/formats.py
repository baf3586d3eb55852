"""Cron expressions, Kubernetes quantities, retention durations and timestamps parse."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from renderer.errors import Mark, Problem
from renderer.positioned import PMap
from renderer.rules._walk import entries, located

ID = "formats"

MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
# minute, hour, day of month, month, day of week: the ranges Kubernetes' cron parser accepts
CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}),
    ("day of week", 0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)
QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?\Z")
RETENTION = re.compile(r"[1-9][0-9]*[dwm]\Z")


def cron_problem(expression: str) -> str | None:
    text = expression.strip()
    if text in MACROS:
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"{expression!r} is not a cron expression: expected 5 fields (minute hour day month weekday), got {len(fields)}"
    for value, (name, low, high, aliases) in zip(fields, CRON_FIELDS):
        for part in value.split(","):
            body, _, step = part.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                return f"{expression!r}: bad step {step!r} in the {name} field"
            if body in ("*", "?"):
                continue
            bounds = body.split("-")
            if len(bounds) > 2 or not all(bounds):
                return f"{expression!r}: cannot read {part!r} in the {name} field"
            numbers = []
            for bound in bounds:
                number = aliases.get(bound.lower()) if not bound.isdigit() else int(bound)
                if number is None or not low <= number <= high:
                    return f"{expression!r}: {bound!r} is out of range {low}-{high} in the {name} field"
                numbers.append(number)
            if len(numbers) == 2 and numbers[0] > numbers[1]:
                return f"{expression!r}: range {body!r} runs backwards in the {name} field"
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
