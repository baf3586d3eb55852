"""Five-field cron expressions as Kubernetes reads them, and how often they run."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# minute, hour, day of month, month, day of week: the ranges Kubernetes' cron parser accepts
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}),
    ("day of week", 0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)
# Counting runs needs a calendar; a fixed one keeps rendering a pure function of the catalog.
REFERENCE_DAY = date(2026, 1, 5)


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool  # day of month is '*'
    any_weekday: bool  # day of week is '*'

    def runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day, by_weekday = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # cron: restricted fields are AND-ed with '*' ...
            return by_day and by_weekday
        return by_day or by_weekday  # ... but two restricted day fields are OR-ed

    def runs_within(self, days: int) -> int:
        """How many times it runs in ``days`` days (from a fixed reference day)."""
        per_day = len(self.minutes) * len(self.hours)
        return per_day * sum(self.runs_on(REFERENCE_DAY + timedelta(n)) for n in range(days))

    def longest_gap(self) -> int:
        """The longest time between two runs, in seconds: over two years from the reference day
        (a yearly schedule's gap fits in), or eight for a schedule of leap days."""
        times = sorted(60 * minute + 3600 * hour for hour in self.hours for minute in self.minutes)
        within = max((b - a for a, b in zip(times, times[1:])), default=0)
        for years in (2, 8):
            days = [n for n in range(years * 366 + 1) if self.runs_on(REFERENCE_DAY + timedelta(n))]
            if len(days) > 1:
                break
        across = max(((b - a) * 86400 - times[-1] + times[0] for a, b in zip(days, days[1:])), default=0)
        return max(within, across)


def _field(value: str, name: str, low: int, high: int, aliases: dict[str, int], expression: str) -> frozenset[int]:
    values: set[int] = set()
    for part in value.split(","):
        body, _, step_text = part.partition("/")
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise CronError(f"{expression!r}: bad step {step_text!r} in the {name} field")
        step = int(step_text) if step_text else 1
        if body in ("*", "?"):
            start, end = low, high
        else:
            bounds = body.split("-")
            if len(bounds) > 2 or not all(bounds):
                raise CronError(f"{expression!r}: cannot read {part!r} in the {name} field")
            numbers = []
            for bound in bounds:
                number = int(bound) if bound.isdigit() else aliases.get(bound.lower())
                if number is None or not low <= number <= high:
                    raise CronError(f"{expression!r}: {bound!r} is out of range {low}-{high} in the {name} field")
                numbers.append(number)
            start, end = numbers[0], numbers[-1] if len(numbers) == 2 else (high if step_text else numbers[0])
            if start > end:
                raise CronError(f"{expression!r}: range {body!r} runs backwards in the {name} field")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse(expression: str) -> Cron:
    text = MACROS.get(expression.strip(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"{expression!r} is not a cron expression: expected 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    minutes, hours, days, months, weekdays = (_field(value, *spec, expression) for value, spec in zip(fields, FIELDS))
    return Cron(minutes, hours, days, months, weekdays, fields[2] in ("*", "?"), fields[4] in ("*", "?"))


@functools.lru_cache(maxsize=256)  # a fleet repeats a few schedules
def longest_gap(expression: str) -> int:
    return parse(expression).longest_gap()


def retention_days(retention: str) -> int:
    """``14d``, ``4w``, ``6m`` (months of 30 days) in days."""
    number, unit = int(retention[:-1]), retention[-1]
    return number * {"d": 1, "w": 7, "m": 30}[unit]


def backups_to_keep(schedule: str, retention: str) -> int:
    """Operators that keep a count of backups: as many as the schedule makes in the retention."""
    return max(1, parse(schedule).runs_within(retention_days(retention)))
