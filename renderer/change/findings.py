"""What ``plan`` finds: each change of the fleet, how much it disrupts, by which rule and why."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from renderer.errors import Mark


class Level(IntEnum):
    SAFE = 0  # applied online, nothing restarts
    DISRUPTIVE = 1  # restarts or rolls pods, or changes what clients see
    DESTRUCTIVE = 2  # loses data or backups, or the sync fails

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One change of one entry (or object), as a rule classifies it."""

    level: Level
    rule: str
    summary: str
    evidence: str  # what the operator (or Kubernetes) does, and where that is written
    field: tuple[str, ...] = ()  # the entry's field it is about: where the report points


@dataclass(frozen=True)
class Change:
    """A finding placed: the environment, what it is about, where it is written."""

    env: str
    subject: str  # "cluster orders", "database billing", "backup store s3-main", "namespace databases"
    finding: Finding
    mark: Mark
    allowed: str | None = None  # the allowDestructive reason that lets it through

    @property
    def blocks(self) -> bool:
        return self.finding.level is Level.DESTRUCTIVE and self.allowed is None

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.env,
            "subject": self.subject,
            "level": self.finding.level.label,
            "rule": self.finding.rule,
            "summary": self.finding.summary,
            "evidence": self.finding.evidence,
            "file": self.mark.file,
            "line": self.mark.line,
            "column": self.mark.col,
            "allowedBecause": self.allowed,
        }


@dataclass
class Plan:
    base: str  # the revision as given, and the commit it names
    commit: str
    environments: list[str]
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader should know beside the changes

    @property
    def blocking(self) -> list[Change]:
        return [change for change in self.changes if change.blocks]

    def count(self, env: str, level: Level) -> int:
        return sum(1 for c in self.changes if c.env == env and c.finding.level is level)
