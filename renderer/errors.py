"""The one user-facing error type, the problems it carries, and how they name a place in a catalog."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, NamedTuple


class Mark(NamedTuple):
    """Where a node starts in a file; line and column are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def format_path(path: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """``clusters[0].storage.size`` style, as users read catalog paths."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


class Problem(NamedTuple):
    mark: Mark
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = str(self.mark) if self.mark.line else self.mark.file
        return f"{where}: {self.severity}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.mark.file,
            "line": self.mark.line,
            "column": self.mark.col,
            "severity": self.severity,
            "message": self.message,
        }


class DbfleetError(Exception):
    """Bad input or a refused operation: reported as problems, never as a traceback."""

    def __init__(self, problems: Iterable[Problem], exit_code: int = 2) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        self.exit_code = exit_code
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    return (problem.mark.file, problem.mark.line, problem.mark.col, problem.message)


def raise_if(problems: list[Problem]) -> None:
    """Bad input: every error at once, and the warnings found with them."""
    if any(p.severity == "error" for p in problems):
        raise DbfleetError(problems)
