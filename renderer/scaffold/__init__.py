"""``dbfleet init``: the first files of a repository that keeps a catalog, which render as they are.

The files live beside this module; ``@VERSION@`` and ``@REPOSITORY@`` become this dbfleet's.
"""
from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from renderer.errors import DbfleetError, Mark, Problem

REPOSITORY = "https://github.com/dbfleet/dbfleet"
HERE = Path(__file__).parent
# where each file goes in the new repository: what it is made from
FILES = {
    "catalog/fleet.yaml": "fleet.yaml",
    "overlays/dev.yaml": "dev.yaml",
    "overlays/prod.yaml": "prod.yaml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/dbfleet.yaml": "github-workflow.yaml",
}
OUTPUT = "rendered"


def dbfleet_version() -> str:
    try:
        return version("dbfleet")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
        return "0.0.0"


def contents() -> dict[str, bytes]:
    """Each new file's bytes, by its path in the repository."""
    return {
        target: (HERE / source).read_text(encoding="utf-8")
        .replace("@VERSION@", dbfleet_version()).replace("@REPOSITORY@", REPOSITORY).encode()
        for target, source in FILES.items()
    }


def write(directory: Path) -> list[str]:
    """Write the files into ``directory`` (made if missing); refuse, writing nothing, when any of
    them (or the output folder) is already there, or a folder on the way is a symbolic link."""
    files = contents()
    problems = []
    for target in [*files, OUTPUT]:
        path = directory / target
        if path.exists() or path.is_symlink():
            problems.append(Problem(Mark(str(path), 0, 0), "already exists: dbfleet init writes only new files "
                                                             "(move it away, or give another folder: dbfleet init DIR)"))
    folders = {parent for target in files for parent in (directory / target).parents if directory in parent.parents}
    for folder in sorted(folders):
        if folder.is_symlink():
            problems.append(Problem(Mark(str(folder), 0, 0), "is a symbolic link: dbfleet init writes into plain folders only"))
    if problems:
        raise DbfleetError(problems)
    for target, data in files.items():
        path = directory / target
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return list(files)
