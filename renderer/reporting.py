"""Reporters: the same results as text for people or JSON for machines."""
from __future__ import annotations

import json
import sys
from typing import Any, Protocol, Sequence

import click

from renderer.errors import Problem


class Reporter(Protocol):
    wants_data: bool  # JSON: results as data, not as text lines

    def problems(self, problems: Sequence[Problem]) -> None: ...

    def result(self, message: str, **data: Any) -> None: ...

    def diff(self, text: str) -> None: ...

    def raw(self, text: str) -> None: ...


class TextReporter:
    wants_data = False

    def problems(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            click.echo(str(problem), err=True)
        errors = sum(p.severity == "error" for p in problems)
        if errors:
            click.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)

    def result(self, message: str, **data: Any) -> None:
        click.echo(message, err=True)

    def diff(self, text: str) -> None:
        sys.stdout.write(text)

    def raw(self, text: str) -> None:
        sys.stdout.write(text)


class JsonReporter:
    """Collects everything and prints one JSON document when closed."""

    wants_data = True

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"problems": []}

    def problems(self, problems: Sequence[Problem]) -> None:
        self.data["problems"].extend(p.as_json() for p in problems)

    def result(self, message: str, **data: Any) -> None:
        self.data["message"] = message
        self.data.update(data)

    def diff(self, text: str) -> None:
        self.data["diff"] = text

    def raw(self, text: str) -> None:
        sys.stdout.write(text)

    def close(self, exit_code: int) -> None:
        self.data["exitCode"] = exit_code
        sys.stdout.write(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
