"""A plan as text for a terminal, as a Markdown pull-request comment, or as JSON data."""
from __future__ import annotations

import re
from typing import Any

from renderer.change.findings import Change, Level, Plan

ORDER = (Level.DESTRUCTIVE, Level.DISRUPTIVE, Level.SAFE)
ICON = {Level.DESTRUCTIVE: "🛑", Level.DISRUPTIVE: "⚠️", Level.SAFE: "✅"}


def _sorted(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (-c.finding.level, c.subject, c.finding.rule, c.finding.summary))


def _where(change: Change) -> str:
    mark = change.mark
    return str(mark) if mark.line else mark.file


def verdict(plan: Plan, allow: bool) -> str:
    blocking = len(plan.blocking)
    if not blocking:
        return "nothing destructive" if not any(c.finding.level is Level.DESTRUCTIVE for c in plan.changes) \
            else "destructive changes, each allowed in the catalog"
    what = f"{blocking} destructive change{'s' if blocking != 1 else ''}"
    return f"{what} allowed by --allow-destructive" if allow else f"{what} without an allowDestructive reason: refused"


def _counts(plan: Plan, env: str) -> str:
    return ", ".join(f"{plan.count(env, level)} {level.label}" for level in ORDER)


def _shown(value: str) -> str:
    """Catalog text on a terminal: no control characters (escape sequences, line breaks)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", value)


def text(plan: Plan, allow: bool) -> str:
    lines = [f"plan against {plan.base} ({plan.commit[:12]})"]
    for env in plan.environments:
        changes = _sorted([c for c in plan.changes if c.env == env])
        lines.append(f"{env}: " + (_counts(plan, env) if changes else "no changes"))
        for change in changes:
            finding = change.finding
            lines.append(f"  {finding.level.label.upper():<12} {change.subject}: {_shown(finding.summary)} [{finding.rule}]")
            if finding.level is not Level.SAFE or finding.rule != "objects":
                lines.append(f"               {_where(change)}: {finding.evidence}")
            if change.allowed:
                lines.append(f"               allowed: {_shown(change.allowed)}")
    lines += [f"note: {_shown(note)}" for note in dict.fromkeys(plan.notes)]
    lines.append(verdict(plan, allow))
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    """Catalog text inside a Markdown table: no cell breaks, no HTML, no code spans broken."""
    return re.sub(r"[|<`\\*_\[\]]", lambda m: "&lt;" if m.group() == "<" else "\\" + m.group(), _shown(" ".join(value.split())))


def _code(value: str) -> str:
    """Text inside a Markdown code span, where escapes show as they are: no backticks to end it."""
    return _shown(" ".join(value.split())).replace("`", "'")


def markdown(plan: Plan, allow: bool) -> str:
    blocking = plan.blocking and not allow
    head = "🛑" if blocking else ("⚠️" if any(c.finding.level > Level.SAFE for c in plan.changes) else "✅")
    out = [f"### {head} dbfleet plan: {verdict(plan, allow)}", "",
           f"Compared with {_cell(plan.base)} ({plan.commit[:12]}).", "",
           "| environment | destructive | disruptive | safe |", "|---|---:|---:|---:|"]
    out += [f"| {_cell(env)} | " + " | ".join(str(plan.count(env, level)) for level in ORDER) + " |"
            for env in plan.environments]
    for env in plan.environments:
        changes = _sorted([c for c in plan.changes if c.env == env])
        if not changes:
            continue
        out += ["", f"#### {_cell(env)}", "", "| | subject | change | rule |", "|---|---|---|---|"]
        out += [f"| {ICON[c.finding.level]} {c.finding.level.label} | {_cell(c.subject)} | {_cell(c.finding.summary)}"
                + (f" (allowed: {_cell(c.allowed)})" if c.allowed else "") + f" | `{c.finding.rule}` |" for c in changes]
        detailed = [c for c in changes if c.finding.level is not Level.SAFE]
        if detailed:
            out += ["", "<details><summary>Why</summary>", ""]
            out += [f"- **{_cell(c.subject)}**, `{c.finding.rule}` at `{_code(_where(c))}`: {_cell(c.finding.evidence)}"
                    for c in detailed]
            out += ["", "</details>"]
    if plan.notes:
        out += [""] + [f"> {_cell(note)}" for note in dict.fromkeys(plan.notes)]
    return "\n".join(out) + "\n"


def data(plan: Plan, allow: bool) -> dict[str, Any]:
    return {
        "base": plan.base,
        "commit": plan.commit,
        "environments": {env: {level.label: plan.count(env, level) for level in ORDER} for env in plan.environments},
        "changes": [change.as_json() for change in _sorted(plan.changes)],
        "blocking": len(plan.blocking),
        "allowDestructive": allow,
        "notes": list(dict.fromkeys(plan.notes)),
    }
