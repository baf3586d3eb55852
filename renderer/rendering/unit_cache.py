"""Rendered and validated units remembered between runs, so a render after a small edit renders
and validates only the units the edit reached.

A unit's key is a digest of everything its bytes and their validity depend on: the unit as
planned (folder, labels, every component's template and context), the fleet and environment,
and a salt that covers dbfleet's code and templates, the embedded schemas, the validating
libraries' versions and the validation options.  A cluster's unit is also found by its entry's
key (a digest of the cluster and of what its engine reads beside it), so an unchanged cluster is
not planned again.  Only units whose objects validated without a problem are remembered, so a
cached unit needs no validation.  The cache is one file per output folder in the user's cache
(with the outcomes of the CEL rules its objects met, and the entry keys), in ``marshal``'s
format (plain values only: loading it runs no code; three times as fast as JSON for 8,000
objects); it holds the units of the last render only, and can be deleted at any time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import marshal
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Iterator

from renderer.planning.components import Cached, Delivered, Unit
from renderer.planning.plan import fleet_context
from renderer.rendering.render import RenderedObject
from renderer.writing.cache import store_atomically

VERSION = 7
PART = 50  # units marshalled together (a part an edit leaves alone is written again as it was read)
MAX_OUTCOMES = 200_000  # past this, outcomes that edits left behind are dropped
VALIDATING = ("jsonschema", "jsonschema-rs", "cel-python", "kubernetes-validate")


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """The installed versions of distributions, as importlib.metadata finds them (the first
    ``<name>-<version>.dist-info`` along sys.path), without importing it (0.01 to 0.05 s)."""
    wanted = {_normalized(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for item in listing:
            if item.endswith(".dist-info"):
                dist, _, version = item[:-len(".dist-info")].partition("-")
                name = wanted.get(_normalized(dist))
                if name and name not in found:
                    found[name] = version
    if len(found) < len(names):  # an egg, a zip ...: importlib.metadata knows every layout
        from importlib import metadata

        for name in names:
            if name not in found:
                try:
                    found[name] = metadata.version(name)
                except metadata.PackageNotFoundError:
                    pass
    return found


def _normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def salt(code: str, options: object) -> str:
    """What every unit's bytes and validity depend on beyond the unit itself."""
    from renderer.schemas import EMBEDDED_CRDS  # the checksums of the embedded schemas

    sums = (Path(str(EMBEDDED_CRDS)).parent / "SHA256SUMS").read_bytes()
    versions = installed_versions(VALIDATING)
    libraries = [f"{name}={versions.get(name, '?')}" for name in VALIDATING]
    # marshal's format is Python's own: another Python starts another cache.
    return hashlib.sha256("\0".join([code, repr(options), sys.version, *libraries]).encode() + sums).hexdigest()


def record(value: Any) -> bytes:
    """One value of the file: its length (8 bytes), then its marshalled bytes."""
    data = marshal.dumps(value)
    return len(data).to_bytes(8, "big") + data


def read_records(data: bytes) -> Iterator[Any]:
    """The values ``record`` wrote one after another (marshal.load reads a file in small pieces:
    four times as slow)."""
    return (value for value, _ in _records(data))


def _records(data: bytes) -> Iterator[tuple[Any, memoryview]]:
    """Each value ``record`` wrote, with its record's bytes as they are in ``data``."""
    view, at = memoryview(data), 0
    while at < len(data):
        size = int.from_bytes(view[at:at + 8], "big")
        if at + 8 + size > len(data):
            raise EOFError("a record cut short")
        yield marshal.loads(view[at + 8:at + 8 + size]), view[at:at + 8 + size]
        at += 8 + size


def _entries(found: Any) -> dict[str, tuple[str, tuple[str, ...], bool]]:
    """The entries of a cache file, each as ``put_entry`` writes it (a file is plain values, of
    any shape)."""
    if not isinstance(found, dict):
        return {}
    return {entry: planned for entry, planned in found.items()
            if isinstance(planned, tuple) and len(planned) == 3 and isinstance(planned[0], str)
            and isinstance(planned[1], tuple) and all(isinstance(t, str) for t in planned[1])
            and isinstance(planned[2], bool)}


class UnitCache:
    def __init__(self, path: Path, salt: str) -> None:
        self.path, self.salt = path, salt
        self._stored: dict[str, list[Any]] = {}
        self._used: dict[str, list[Any]] = {}
        self.outcomes: dict[tuple[str, str], bool | str] = {}  # of CEL rules on nodes (cel.Outcomes)
        # Each cluster's entry key: the key of its unit as planned, and what GitOps reads of it.
        self._entries: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        self._entries_used: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        self._hits = False
        # Each part of the file as read: its units, and its record's bytes.
        self._parts: list[tuple[dict[str, list[Any]], memoryview]] = []
        try:
            records = _records(b"" if path.is_symlink() else path.read_bytes())
            head, _ = next(records, (None, None))
            if isinstance(head, dict) and head.get("version") == VERSION and head.get("salt") == salt:
                for part, data in records:
                    self._stored.update(part)
                    self._parts.append((part, data))
                self.outcomes, self._entries = head["outcomes"], _entries(head["entries"])
        except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
            self._stored, self.outcomes, self._entries, self._parts = {}, {}, {}, []

    @staticmethod
    def entry_keys(spec: dict[str, Any], fleet: str, env: str) -> dict[str, str]:
        """Each cluster's entry key (by name): a digest of all its unit is planned from, the
        cluster and what its engine reads beside it (plan.fleet_context); none where those hold
        what marshal cannot write.  marshal's version 0 writes no references and no interning:
        equal values are equal bytes, whatever shares them in this process."""
        try:
            base = hashlib.sha256(marshal.dumps(dataclasses.astuple(fleet_context(spec, fleet, env)), 0))
            keys = {}
            for cluster in spec.get("clusters") or []:
                digest = base.copy()
                digest.update(marshal.dumps(cluster, 0))
                keys[cluster["name"]] = digest.hexdigest()
            return keys
        except ValueError:
            return {}

    def cached_entries(self, keys: dict[str, str]) -> dict[str, Cached]:
        """The clusters (by name) whose units are held as their entries plan them now."""
        found = {}
        for name, entry in keys.items():
            known = self._entries.get(entry)
            if known is not None and known[0] in self._stored:
                found[name] = Cached(known[0], Delivered(known[1], known[2]))
        return found

    def put_entry(self, entry: str, cached: Cached) -> None:
        """Remember the unit a cluster's entry planned (kept with the units this render used)."""
        self._entries_used[entry] = (cached.key, cached.delivered.templates, cached.delivered.holds_data)

    def key(self, unit: Unit, fleet: str, env: str) -> str | None:
        """The unit's digest; None when its plan holds something pickle cannot write.  Pickle is
        six times as fast as JSON here, and unambiguous: two plans that differ never share a key
        (equal plans that pickle apart only miss the cache)."""
        planned = (fleet, env, unit.folder, unit.app, unit.instance,
                   [(c.template, c.context, c.component, c.wave, c.holds_data, c.file) for c in unit.components])
        try:
            data = pickle.dumps(planned, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError):
            return None
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str | None) -> list[RenderedObject] | None:
        found = self._stored.get(key) if key else None
        if found is None:
            return None
        self._used[key] = found  # type: ignore[index]
        self._hits = True
        return [RenderedObject(path, {}, content, identities, (), applied, digest)
                for path, content, identities, applied, digest in found]

    def valid_contents(self) -> frozenset[str]:
        """The sha256 of every API object of the stored units: each validated cleanly under this
        salt, and an object's validity depends on its bytes alone (they are its data, written
        one way), which their digest stands for (the digests are kept: no bytes hashed again)."""
        return frozenset(digest for unit in self._stored.values() for _, _, _, applied, digest in unit if applied)

    def put(self, key: str | None, objects: list[RenderedObject]) -> None:
        """Remember a unit whose objects validated cleanly (and whose names are all right)."""
        if key is None or any(obj.name_problems for obj in objects):
            return
        self._used[key] = [(obj.path, obj.content, obj.identities, obj.applied, obj.digest) for obj in objects]

    def save(self, used: dict[tuple[str, str], bool | str]) -> None:
        """Keep what this render used or made: the units of the catalog as it is now, and the
        outcomes of the CEL rules its objects met (the ``used`` ones, and those known from
        before when units came from the cache: their objects were not checked again)."""
        outcomes = {**self.outcomes, **used} if self._hits and len(self.outcomes) < MAX_OUTCOMES else used
        entries = {entry: planned for entry, planned in self._entries_used.items() if planned[0] in self._used}
        if self._used != self._stored or outcomes != self.outcomes or entries != self._entries:
            head = {"version": VERSION, "salt": self.salt, "outcomes": outcomes, "entries": entries}
            # A part whose units this render used, unchanged, is written as it was read (a unit
            # the cache gave is the very list it holds); the other units go in new parts, each
            # marshalled when written: 10,000 clusters' units are 50 MB at once.
            kept = [(part, data) for part, data in self._parts
                    if all(self._used.get(key) is units for key, units in part.items())]
            written = {key for part, _ in kept for key in part}
            keys = [key for key in self._used if key not in written]
            fresh = ({key: self._used[key] for key in keys[i:i + PART]} for i in range(0, len(keys), PART))
            store_atomically(self.path, itertools.chain([record(head)], (data for _, data in kept),
                                                         (record(part) for part in fresh)))
