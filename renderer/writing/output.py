"""The output folder: what dbfleet owns in it, comparing with it, and replacing it atomically.

The renderer owns every file listed in the folder's manifest and nothing else.  The first render
builds the folder beside where it goes and renames it into place.  Later renders replace only the
files that changed, as a transaction: the new files are written beside the folder first; then
each file they replace (and each file that goes) is moved into a backup folder with a journal,
and the new ones are moved in, the manifest last.  An error or an interruption puts the backup
back (at once, or on the next run), so the previous output stays as it was; a commit rewrites a
few files, not the thousands of a large fleet.
"""
from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import marshal
import operator
import os
import re
import shutil
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from renderer.errors import DbfleetError, Mark, Problem
from renderer.forked import Forked, write_all
from renderer.writing.cache import cache_root, store_atomically

MANIFEST = ".dbfleet-manifest.json"
MANIFEST_VERSION = 1
MAX_LISTED = 20
PARALLEL_WRITES_FROM = 2000  # files; below this, a forked process costs more than it saves
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\Z")  # a relative path inside the folder
_OTHER_CHARACTER = re.compile(r"[^A-Za-z0-9_./\n-]")


def _safe_paths(files: dict[str, Any]) -> bool:
    """Every name a relative path inside the folder with no ``..`` in it, and every digest text,
    as ``_SAFE_PATH`` has it, in a few searches over all the names (10,000 matches cost 20 ms).
    Names joined by "/" between slashes: an empty name or part, or a slash at either end, is a
    "//"; a ".." part is a "/../".  A name with a line break would read as two: the count says."""
    if not files:
        return True
    names = "\n".join(files)
    slashed = "/" + names.replace("\n", "/") + "/"
    return (names.count("\n") == len(files) - 1 and _OTHER_CHARACTER.search(names) is None
            and "//" not in slashed and "/../" not in slashed and all(type(digest) is str for digest in files.values()))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Manifest:
    """What dbfleet wrote: committed with the output, so it changes only when the output does.
    One read from disk is parsed when its files are first asked for: `render --check` with
    nothing changed needs only its bytes' digest (and the environments the check record keeps)."""

    def __init__(self, files: dict[str, str] | None = None, raw: bytes = b"", path: Path | None = None) -> None:
        # path -> sha256 of its bytes; None: not parsed yet (read from ``path``)
        self._files = {} if files is None and path is None else files
        self.raw = raw  # as read from disk, or to be written
        self._path = path

    @property
    def files(self) -> dict[str, str]:
        if self._files is None:
            self._files = _manifest_files(self.raw, self._path or Path(MANIFEST))
        return self._files

    def to_bytes(self) -> bytes:
        """``json.dumps({"version": .., "files": ..}, indent=1, sort_keys=True)``, byte for byte,
        written directly: json's indenting encoder is Python, 0.1 s and 50 MB at 90,000 files."""
        files = self.files
        if not files:
            return (json.dumps({"version": MANIFEST_VERSION, "files": {}}, indent=1, sort_keys=True) + "\n").encode()
        paths = sorted(files)
        digests = [files[path] for path in paths]
        end = f'"\n }},\n "version": {MANIFEST_VERSION}\n}}\n'
        if all(type(digest) is str for digest in digests):
            text = "".join(paths) + "".join(digests)
            # Printable ASCII but for '"' and '\\' is what json writes as it is: then the parts are
            # joined as they are, no string made for each file (C loops: 0.1 s less at 100,000 files).
            if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
                parts = ['{\n "files": {\n  "', *itertools.chain.from_iterable(
                    zip(paths, itertools.repeat('": "'), digests, itertools.repeat('",\n  "')))]
                parts[-1] = end
                return "".join(parts).encode()
        entries = ",\n".join(f"  {json.dumps(path)}: {json.dumps(digest)}" for path, digest in zip(paths, digests))
        return f'{{\n "files": {{\n{entries}\n }},\n "version": {MANIFEST_VERSION}\n}}\n'.encode()


def _siblings(out: Path) -> tuple[Path, Path]:
    return out.with_name(out.name + ".dbfleet-new"), out.with_name(out.name + ".dbfleet-old")


BUILDING = ".dbfleet-building"  # marks a folder dbfleet is building beside the output
JOURNAL = ".dbfleet-journal.json"  # marks a backup folder, and lists what a transaction moves


def check_output_path(out: Path) -> None:
    """An output folder dbfleet can own: not a symbolic link, not the root or the current folder,
    not a folder that holds the catalog."""
    try:
        _check_output_path(out)
    except OSError as exc:  # a name too long, a parent folder that cannot be read ...
        raise DbfleetError([Problem(Mark(str(out), 0, 0), f"cannot use the output folder: {exc.strerror or exc}")]) from None


def _check_output_path(out: Path) -> None:
    problems = []
    resolved = out.resolve()
    if out.is_symlink():
        problems.append(Problem(Mark(str(out), 0, 0), "the output folder is a symbolic link; give a real folder "
                                                      "(dbfleet never writes through a link)"))
    elif resolved == Path(resolved.anchor) or resolved == Path.cwd() or resolved in Path.cwd().parents:
        problems.append(Problem(Mark(str(out), 0, 0), "the output folder would hold the catalog, or more: give a folder "
                                                      "of its own, such as rendered"))
    elif out.exists() and not out.is_dir():
        problems.append(Problem(Mark(str(out), 0, 0), "the output path exists and is not a folder"))
    if problems:
        raise DbfleetError(problems)


def recover(out: Path) -> None:
    """Undo a transaction (or finish a swap of an earlier release) that an earlier run did not
    complete; only folders dbfleet made are touched (a folder of the user's with such a name is
    refused)."""
    new, old = _siblings(out)
    if old.exists() or old.is_symlink():
        if not old.is_symlink() and old.is_dir() and ((old / JOURNAL).is_file() or not any(old.iterdir())):
            _roll_back(out, old)  # a transaction cut short (an empty folder: before its journal)
        elif old.is_symlink() or not (old / MANIFEST).is_file():
            raise DbfleetError([Problem(Mark(str(old), 0, 0), "not made by dbfleet, and named as its own: move it away")])
        elif out.exists():
            shutil.rmtree(old)
        else:
            old.rename(out)
    if new.exists() or new.is_symlink():
        if new.is_symlink() or not (new / BUILDING).is_file():
            raise DbfleetError([Problem(Mark(str(new), 0, 0), "not made by dbfleet, and named as its own: move it away")])
        shutil.rmtree(new)


def cached_path(out: Path, kind: str, suffix: str) -> Path:
    """A file of the user's cache about the output folder ``out`` (wherever the command runs)."""
    return cache_root() / kind / (sha256(str(out.resolve()).encode()) + suffix)


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the output folder while a render (or a check) reads and writes it: one at a time.
    The lock lives in the user's cache (nothing is added beside the output) and names its holder."""
    path = cached_path(out, "locks", ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held until the with block ends
    except OSError:  # no cache to lock in: go on unlocked rather than refuse to work
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DbfleetError([Problem(Mark(str(out), 0, 0), f"{holder} is rendering into this folder; wait for it "
                                                              "to finish, then run again")]) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"dbfleet (pid {os.getpid()})\n")
        handle.flush()
        yield


# The manifest last read, by its stamp: a render reads it before and after writing (9,000 entries).
_READ: dict[tuple[str, tuple[int, int, int]], Manifest] = {}


def read_manifest(out: Path) -> Manifest:
    path = out / MANIFEST
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return Manifest()
    except OSError:
        stat = None
    key = (str(path), _stamp(stat)) if stat else None
    if key in _READ:
        return _READ[key]
    try:
        if path.is_symlink():
            raise ValueError("it is a symbolic link")
        manifest = Manifest(None, path.read_bytes(), path)
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    if key:
        _READ.clear()
        _READ[key] = manifest
    return manifest


def _manifest_files(raw: bytes, path: Path) -> dict[str, str]:
    try:
        files = json.loads(raw)["files"]
        if not isinstance(files, dict):
            raise ValueError("files is not a mapping")
        if not _safe_paths(files):
            for name, digest in files.items():
                if not (isinstance(digest, str) and _SAFE_PATH.match(name) and ".." not in name.split("/")):
                    raise ValueError(f"{name!r} is not a file of the output folder")
        return dict(files)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, reason: Exception) -> DbfleetError:
    return DbfleetError([Problem(Mark(str(path), 1, 1), f"unreadable dbfleet manifest ({reason}); if it was "
                                                        "edited, restore it from Git")])


# Each file's stamp (what changes when it is written or replaced): size, modification time, inode.
Stamps = dict[str, tuple[int, int, int]]


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


_name = operator.attrgetter("name")


def _scan(out: Path, stamps: Stamps | None = None) -> tuple[list[str], list[str]]:
    """The regular files of the output folder, and what dbfleet never makes there: symbolic links
    (never followed) and empty folders.  With ``stamps``, each file's stamp (what changes when it
    is written or replaced: size, modification time, inode) is put there too, from the same walk."""
    if not out.is_dir() or out.is_symlink():
        return [], []
    found: list[str] = []
    strange: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=_name)
        if not entries and prefix:
            strange.append(prefix)
        for entry in entries:  # 10,000 at 1,000 clusters: the common case first, one call each
            rel = prefix + entry.name
            if not entry.is_file(follow_symlinks=False):
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, rel + "/")
                    continue
                if entry.is_symlink():
                    strange.append(rel)
                    continue
            if rel != MANIFEST:
                found.append(rel)
                if stamps is not None:
                    stat = entry.stat(follow_symlinks=False)
                    stamps[rel] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)  # _stamp, inline

    walk(str(out), "")
    return found, strange


class Scan(NamedTuple):
    """The output folder as one walk found it: dbfleet's files, what it never makes, stamps."""

    files: list[str]
    strange: list[str]
    stamps: Stamps


def scan(out: Path) -> Scan:
    stamps: Stamps = {}
    files, strange = _scan(out, stamps)
    return Scan(files, strange, stamps)


AHEAD_FROM = 2_000  # files; a smaller folder is scanned sooner than a process starts


class Scanning:
    """The output folder's scan, taken once, when first asked for, or ``ahead`` by a forked
    process while this one renders: a stat per file, 0.05 s at 10,000 files, on the second core.
    The folder is locked, so only its owner can change it meanwhile; a file changed after its
    stamp was taken is not taken as written by the next run either (the stamps are recorded as
    taken), and is read then."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._taken: Scan | None = None
        self._ahead: Forked[Scan] | None = None

    def __enter__(self) -> Scanning:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ahead is not None:
            self._ahead.close()

    def ahead(self, files: int) -> None:
        """Start the scan in a forked process, for a folder of so many ``files`` (or not: small)."""
        if self._taken is None and self._ahead is None and files and files >= AHEAD_FROM:
            self._ahead = Forked(lambda: scan(self.out))

    def __call__(self) -> Scan:
        if self._taken is None:
            self._taken = self._ahead.result() if self._ahead is not None else scan(self.out)
        return self._taken


def disk_files(out: Path) -> list[str]:
    return _scan(out)[0]


def foreign_problems(out: Path, manifest: Manifest, scanned: Scan | None = None) -> list[Problem]:
    """Files dbfleet did not write, symbolic links and empty folders: refused, never deleted.
    ``scanned``: the folder's scan, when the caller has it."""
    if out.exists() and not out.is_dir():
        return [Problem(Mark(str(out), 0, 0), "the output path exists and is not a folder")]
    files, strange = scanned[:2] if scanned else _scan(out)
    foreign = strange + [f for f in files if f not in manifest.files]
    problems = [
        Problem(Mark(str(out / f), 0, 0), "not written by dbfleet; move it out of the output folder (dbfleet owns it entirely)")
        for f in foreign[:MAX_LISTED]
    ]
    if len(foreign) > MAX_LISTED:
        problems.append(Problem(Mark(str(out), 0, 0), f"... and {len(foreign) - MAX_LISTED} more files not written by dbfleet"))
    return problems


def environments(manifest: Manifest) -> set[str]:
    """The environments whose files the output folder holds."""
    return {path.split("/", 1)[0] for path in manifest.files}


def in_scope(path: str, envs: list[str]) -> bool:
    return path.split("/", 1)[0] in envs


def _check_record(out: Path) -> Path:
    """Where the digests of the inputs that rendered ``out`` are kept: in the user's cache, not
    in the output, so that an edit that renders the same bytes leaves the working tree clean."""
    return cached_path(out, "rendered", ".marshal")


def remember_inputs(out: Path, inputs: dict[str, str], now: Stamps | None = None) -> None:
    """Record that the output folder, as its manifest is now, is what ``inputs`` render, and
    how its files stand on disk (so a later check need not read them): ``now``, when the caller
    has just taken their stamps (``write`` has)."""
    manifest = read_manifest(out)
    manifest_digest = sha256(manifest.raw)
    present = environments(manifest)
    # The last record is read for the inputs of environments not rendered now (with --env) only.
    record = {} if present <= inputs.keys() else _read_record(out)
    if record.get("manifest") != manifest_digest:
        record = {}
    kept = {env: digest for env, digest in record.get("inputs", {}).items() if env in present}
    if now is None:
        now = {}
        _scan(out, now)
    stamps = {path: now.get(path) for path in manifest.files}
    data = {"manifest": manifest_digest, "environments": sorted(present), "inputs": {**kept, **inputs}, "stamps": stamps}
    # marshal: plain values, loaded without running code; a tenth of JSON's memory and time
    # for 90,000 stamps.
    store_atomically(_check_record(out), marshal.dumps(data))


def _read_record(out: Path) -> dict[str, Any]:
    try:
        path = _check_record(out)
        data = {} if path.is_symlink() else marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError, RecursionError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("inputs"), dict) else {}


def up_to_date(out: Path, manifest: Manifest, envs: list[str], digests: Callable[[list[str]], dict[str, str]],
               scanning: Callable[[], Scan]) -> bool:
    """True when the inputs of ``envs`` (all the manifest's when none is given), as ``digests``
    makes them, are those of the last render (or check) of this very output folder and the files
    on disk are untouched.

    Rendering is a pure function of its inputs, so this answers ``render --check`` without
    rendering: the pre-commit hook's common case.  A fresh clone has no record: it renders."""
    record = _read_record(out)
    # The record of this very manifest says which environments it holds: it is not parsed.
    if not manifest.raw or record.get("manifest") != sha256(manifest.raw) or not isinstance(record.get("environments"), list):
        return False
    envs = envs or record["environments"]
    inputs = digests(envs) if envs else {}
    if not inputs or any(record["inputs"].get(env) != digest for env, digest in inputs.items()):
        return False
    scanned = scanning()  # only now: when the inputs changed, the render that follows needs it later
    if record.get("stamps") == scanned.stamps:  # every file of the manifest, and only those, as written
        return True
    envs = list(inputs)
    expected = {p: h for p, h in manifest.files.items() if in_scope(p, envs)}
    on_disk = [f for f in scanned.files if in_scope(f, envs)]
    if len(on_disk) != len(expected) or expected.keys() != set(on_disk):
        return False
    return _intact(out, expected, record, scanned.stamps) == set(expected)


def _intact(out: Path, files: dict[str, str], record: dict[str, Any], now: Stamps) -> set[str]:
    """The ``files`` (path: digest) that are on disk as written.  A file whose size, time and
    inode are those the record of this manifest holds is the one written; the others are read."""
    stamps = record.get("stamps")
    if not isinstance(stamps, dict):
        stamps = {}
    if stamps == now:  # the folder as the last render left it (one comparison of 10,000 stamps)
        return set(files).intersection(now)
    return {path for path, digest in files.items()
            if (path in now and stamps.get(path) == now[path]) or _matches(out / path, digest)}


def diff(out: Path, files: dict[str, bytes], envs: list[str], label: str, scanned: Scan,
         digests: dict[str, str] | None = None) -> str:
    """A unified diff from the folder on disk (as ``scanned``) to the freshly rendered files,
    within ``envs``.  ``digests``: the sha256 of those files that are known (the others are hashed)."""
    import difflib  # only when the catalog changed

    now = scanned.stamps
    current = {f for f in scanned.files if in_scope(f, envs)}
    # A file as the last render left it (its recorded stamp) holds the manifest's bytes: when
    # those are the new ones, it need not be read.
    manifest = read_manifest(out)
    record = _read_record(out)
    stamps = record.get("stamps") if record.get("manifest") == sha256(manifest.raw) else None
    stamps = stamps if isinstance(stamps, dict) else {}
    known = digests or {}
    chunks: list[str] = []
    for path in sorted(current | set(files)):
        new = files.get(path)
        if (new is not None and path in current and stamps.get(path) == now[path]
                and manifest.files.get(path) == (known.get(path) or sha256(new))):
            continue
        old = (out / path).read_bytes() if path in current else None
        if old == new:
            continue
        old_lines = old.decode("utf-8", "replace").splitlines(keepends=True) if old is not None else []
        new_lines = new.decode().splitlines(keepends=True) if new is not None else []
        chunks.extend(
            difflib.unified_diff(
                old_lines,
                new_lines,
                fromfile=f"a/{label}/{path}" if old is not None else "/dev/null",
                tofile=f"b/{label}/{path}" if new is not None else "/dev/null",
            )
        )
    return "".join(chunks)


def write(out: Path, files: dict[str, bytes], envs: list[str], digests: dict[str, str] | None = None,
          scanning: Callable[[], Scan] | None = None, jobs: int = 1, holders: Sequence[Holder] = (),
          meanwhile: Callable[[], None] | None = None) -> tuple[list[str], Stamps]:
    """Replace the environments ``envs`` of the output folder with ``files``; keep the others.
    ``digests``: the sha256 of those files that are known (the others are hashed here);
    ``scanning``: the folder's scan, when the caller took it (it holds the folder's lock);
    ``jobs``: processes that may create the files; ``holders``: processes that hold some of
    them (``create_held``), which create those; ``meanwhile``: the caller's work, done once
    whatever happens, while the other processes create their files if any do.

    Returns the paths that changed (a file edited or deleted by hand is repaired, and counts),
    and the stamps of the folder's files now.
    Refuses (raises) when the folder holds foreign files, or a kept environment's file was edited.
    """
    pending = [meanwhile] if meanwhile else []

    def run_pending() -> None:
        while pending:
            pending.pop()()

    try:
        return _write(out, files, envs, digests, scanning, jobs, holders, run_pending)
    finally:
        run_pending()


def _write(out: Path, files: dict[str, bytes], envs: list[str], digests: dict[str, str] | None,
           scanning: Callable[[], Scan] | None, jobs: int, holders: Sequence[Holder], meanwhile: Callable[[], None]
           ) -> tuple[list[str], Stamps]:
    recover(out)
    manifest = read_manifest(out)
    scanned = scanning() if scanning else scan(out)
    now = scanned.stamps
    problems = foreign_problems(out, manifest, scanned)
    if problems:
        raise DbfleetError(problems)
    inside = tuple(f"{env}/" for env in envs)  # in_scope, one test each
    kept = {p: h for p, h in manifest.files.items() if not p.startswith(inside) and p not in envs}
    known = digests or {}
    final = Manifest(files={**kept, **{p: known.get(p) or sha256(b) for p, b in files.items()}})
    record = _read_record(out)
    intact = _intact(out, manifest.files, record if record.get("manifest") == sha256(manifest.raw) else {}, now)
    edited = sorted(p for p in kept if p not in intact)
    if edited:
        raise DbfleetError([Problem(Mark(str(out / p), 0, 0), "edited or deleted by hand, in an environment not rendered "
                                                              "now: render it too (without --env), or restore the file")
                            for p in edited[:MAX_LISTED]])
    changed = [p for p, digest in final.files.items() if manifest.files.get(p) != digest or p not in intact]
    changed += [p for p in manifest.files if p not in final.files]
    changed.sort()
    if not changed and out.exists() and _manifest_bytes(final) == manifest.raw:
        return [], now
    new, old = _siblings(out)
    # No fsync of thousands of files: the transaction protects against an interrupted process,
    # and the output is committed to Git, which is its durable copy.
    try:
        if out.exists():
            written = _replace(out, new, old, final, files, changed, jobs, holders, meanwhile)
            for path in changed:  # the others are as the scan found them
                now.pop(path, None)
            now.update(written)
        else:
            now = _build(new, final, files, list(final.files), jobs, holders, meanwhile)
            new.rename(out)  # the same files: the same stamps
        # The manifest is read again at once (remember_inputs): known, by the stamp it keeps.
        _READ.clear()
        _READ[(str(out / MANIFEST), now.pop(MANIFEST))] = final
    except OSError as exc:  # a read-only folder, a full disk, a name too long ...
        shutil.rmtree(new, ignore_errors=True)
        where = exc.filename or out
        raise DbfleetError([Problem(Mark(str(where), 0, 0), f"cannot write: {exc.strerror or exc}; the previous "
                                                            "output is as it was")]) from None
    return changed, now


def _matches(path: Path, digest: str) -> bool:
    """The file on disk is the one dbfleet wrote (a regular file, with those bytes)."""
    try:
        return not path.is_symlink() and sha256(path.read_bytes()) == digest
    except OSError:
        return False


def _build(new: Path, final: Manifest, files: dict[str, bytes], paths: list[str], jobs: int = 1,
           holders: Sequence[Holder] = (), meanwhile: Callable[[], None] = lambda: None) -> Stamps:
    """A folder beside the output with ``paths`` written and the manifest (``final.raw``), marked
    as dbfleet's until it is complete; the stamps of the files written and of the manifest.
    Creating a file is the system's work, not Python's: with ``jobs`` > 1 and many files, other
    processes create some of them beside this one (10,000 files: 0.15 -> 0.09 s on tmpfs, 2.8 ->
    1.5 s on this machine's disk, for about the same CPU; threads cost more than they save): the
    ``holders`` those they hold (the processes that rendered them: forking one more process to
    create them cost 7,600 page faults of a 1,000-cluster render), and forked processes a run
    of the others each.  ``meanwhile``: the caller's work, done here once they were asked."""
    new.mkdir(parents=True)
    (new / BUILDING).write_bytes(b"")
    root = str(new)
    asked: list[tuple[Holder, list[str]]] = []
    for holder in holders:
        held = [path for path in paths if path in holder.paths]
        if held and holder.child.ask((root, held)):
            asked.append((holder, held))
    if asked:
        taken = {path for _, held in asked for path in held}
        paths = [path for path in paths if path not in taken]
    jobs = max(min(jobs, os.cpu_count() or 1) - len(asked), 1) if len(paths) >= PARALLEL_WRITES_FROM else 1
    runs = [paths[len(paths) * i // jobs:len(paths) * (i + 1) // jobs] for i in range(jobs)]
    # Should a child write nothing back, its files are written here, over what it may have left.
    children = [Forked(partial(_create_all, root, files, run), fallback=partial(_create_all, root, files, run, True))
                for run in runs[1:]]
    try:
        meanwhile()
        stamps = _create_all(root, files, runs[0])
        raw = _manifest_bytes(final)  # while the others may still write
        for holder, held in asked:
            answered, created = holder.child.answer()
            stamps.update(created if answered else _create_all(root, files, held, True))
        for child in children:
            stamps.update(child.result())
    except BaseException:  # (a full disk ...): no process goes on writing into the folder, which goes
        release(holder for holder, _ in asked)
        raise
    finally:
        for child in children:
            child.close()
    stamps[MANIFEST] = _create(f"{root}/{MANIFEST}", raw)
    (new / BUILDING).unlink()
    return stamps


class Holder(NamedTuple):
    """A forked process that holds the bytes of some of the files (those at ``paths``: a share of
    the units it rendered) and creates them when asked (``create_held``); close it once the output
    is written."""

    child: Forked[Any]
    paths: frozenset[str]


def release(holders: Iterable[Holder]) -> None:
    """Stop the holders (their files written, or not wanted)."""
    for holder in holders:
        holder.child.close()


def create_held(files: dict[str, bytes], request: tuple[str, list[str]]) -> Stamps:
    """What a process that holds ``files`` (a share it rendered) does when ``_build`` asks it:
    create those at the paths asked in the folder being built; their stamps."""
    root, paths = request
    return _create_all(root, files, paths)


def _manifest_bytes(final: Manifest) -> bytes:
    """The bytes of the manifest to write (made once: 10,000 names sorted and joined, 9 ms)."""
    if not final.raw:
        final.raw = final.to_bytes()
    return final.raw


def _create_all(root: str, files: dict[str, bytes], paths: list[str], again: bool = False) -> Stamps:
    """Each of ``paths`` made in the folder ``root`` with its bytes; their stamps.  ``again``: a
    file may be there (``root`` is dbfleet's new folder: a process cut short left it)."""
    made = {""}  # paths as text: pathlib's objects cost as much as the system calls (10,000 files)
    stamps: Stamps = {}
    for path in paths:
        folder = path.rpartition("/")[0]
        if folder not in made:
            _folder(f"{root}/{folder}")
            made.add(folder)
        if again and os.path.lexists(f"{root}/{path}"):
            os.unlink(f"{root}/{path}")
        stamps[path] = _create(f"{root}/{path}", files[path])
    return stamps


def _folder(path: str) -> None:
    """The folder, made with its parents unless it is there (another process may make it too):
    one system call when its parent is there, where ``os.makedirs`` looks first (5 us, not 10)."""
    try:
        os.mkdir(path)
    except FileExistsError:  # (a file, not a folder: creating a file in it says so)
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def _create(path: str, data: bytes) -> tuple[int, int, int]:
    """A new file with ``data``; its stamp, from the open file (no second look at the path)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        write_all(fd, data)
        return _stamp(os.fstat(fd))
    finally:
        os.close(fd)


def _parents(target: Path, made: set[Path]) -> None:
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)


def _replace(out: Path, new: Path, old: Path, final: Manifest, files: dict[str, bytes], changed: list[str],
             jobs: int = 1, holders: Sequence[Holder] = (), meanwhile: Callable[[], None] = lambda: None) -> Stamps:
    """Replace the ``changed`` files of the output folder (and its manifest) as one transaction;
    the stamps of the files written (a rename keeps them)."""
    written = [p for p in changed if p in final.files]
    stamps = _build(new, final, files, written, jobs, holders, meanwhile)
    moves = [*changed, MANIFEST]
    journal = {"moved": moves, "added": [p for p in [*written, MANIFEST] if not (out / p).exists()]}
    old.mkdir()
    try:
        # Written whole before anything moves: a journal cut short means nothing moved yet.
        (old / JOURNAL).write_bytes(json.dumps(journal).encode())
        made: set[Path] = {old}
        for path in moves:  # what goes or is replaced, into the backup
            if (out / path).exists():
                _parents(old / path, made)
                os.rename(out / path, old / path)
        made = {out}
        for path in [*written, MANIFEST]:
            _parents(out / path, made)
            os.rename(new / path, out / path)
    except BaseException:
        _roll_back(out, old)
        raise
    _prune(out, changed)
    shutil.rmtree(old)
    shutil.rmtree(new)
    return stamps


def _roll_back(out: Path, old: Path) -> None:
    """Put back what a transaction moved (its journal says what), and take away what it added."""
    try:
        journal = json.loads((old / JOURNAL).read_bytes())
    except (OSError, ValueError):  # no journal, or one cut short: nothing moved yet
        journal = {"moved": [], "added": []}
    for path in journal["added"]:
        if _SAFE_PATH.match(path) and (out / path).is_file():
            (out / path).unlink()
    for path in journal["moved"]:
        if _SAFE_PATH.match(path) and (old / path).is_file():
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old / path, out / path)
    _prune(out, journal["added"])
    shutil.rmtree(old)
    new, _ = _siblings(out)
    shutil.rmtree(new, ignore_errors=True)


def _prune(out: Path, paths: Iterable[str]) -> None:
    """Folders left empty by files that went: dbfleet makes no empty folders."""
    for folder in sorted({(out / p).parent for p in paths}, key=lambda f: -len(f.parts)):
        while folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
