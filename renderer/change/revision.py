"""The files of a Git revision, read from Git's object store: never by checking out, so the
working tree (and anything uncommitted in it) is left as it is."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from renderer.errors import DbfleetError, Mark, Problem

# Where a branch is usually merged: the remote's default branch first, then local names.
DEFAULT_BRANCHES = ("origin/main", "origin/master", "main", "master")
REGULAR_FILES = ("100644", "100755")  # not symlinks (120000) or submodules: never followed


def _git(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], input=data, capture_output=True, check=False)
    except FileNotFoundError:
        raise DbfleetError([Problem(Mark("git", 0, 0), "plan reads the base revision with git, which is not installed")]) from None


def _out(*args: str) -> str | None:
    done = _git(*args)
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else None


def default_base() -> tuple[str, str]:
    """The merge base with the default branch (what a pull request is compared with), else HEAD;
    and how to call it."""
    if _out("rev-parse", "--is-inside-work-tree") != "true":
        raise DbfleetError([Problem(Mark(str(Path.cwd()), 0, 0), "not inside a Git working tree: plan compares the "
                                                                  "catalog with a commit")])
    remote_head = _out("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    for branch in ([remote_head] if remote_head else []) + list(DEFAULT_BRANCHES):
        if _out("rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}") is not None:
            base = _out("merge-base", "HEAD", branch)
            if base:
                return base, f"the merge base with {branch}"
    return "HEAD", "HEAD"


class Revision:
    """One commit's files, by path relative to the current folder."""

    def __init__(self, ref: str, label: str | None = None) -> None:
        commit = _out("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") if not ref.startswith("-") else None
        if commit is None:
            raise DbfleetError([Problem(Mark("--base", 0, 0), f"{ref!r} is not a commit of this repository"
                                        + (" (it has no commits yet)" if ref == "HEAD" else ""))])
        self.commit = commit
        self.label = label or ref
        # What a path at this revision is shown with (git show <ref>:<path> reads it).
        self.ref = ref if label is None or ref == "HEAD" else commit[:12]
        top = _out("rev-parse", "--show-toplevel")
        self._top = Path(top) if top else Path.cwd()

    def files(self, paths: list[Path]) -> dict[str, bytes]:
        """Regular files under ``paths`` at this commit: {path relative to here: bytes}."""
        listed = _git("ls-tree", "-r", "-z", "--full-name", self.commit, "--", *(str(p) for p in paths) or ["."])
        if listed.returncode:
            raise DbfleetError([Problem(Mark("git", 0, 0), listed.stderr.decode("utf-8", "replace").strip())])
        wanted: list[tuple[str, str]] = []  # (object id, path)
        for record in listed.stdout.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, sha = meta.decode().split(" ")
            if kind == "blob" and mode in REGULAR_FILES:
                wanted.append((sha, os.path.relpath(self._top / name.decode("utf-8", "surrogateescape"))))
        if not wanted:
            return {}
        batch = _git("cat-file", "--batch", data="".join(f"{sha}\n" for sha, _ in wanted).encode())
        if batch.returncode:
            raise DbfleetError([Problem(Mark("git", 0, 0), batch.stderr.decode("utf-8", "replace").strip())])
        files, out, at = {}, batch.stdout, 0
        for _, path in wanted:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split(b" ")[2])
            files[path] = out[header_end + 1:header_end + 1 + size]
            at = header_end + 1 + size + 1
        return files
