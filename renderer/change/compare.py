"""Two revisions of a fleet, environment by environment: entry by entry (the catalog rules) and
object by object (the output rules), each change placed where the catalog writes it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from renderer.catalog.load import Catalog, ENTRY_NOUNS, resolve, with_schema_defaults
from renderer.catalog.nodes import PMap
from renderer.change import entries, objects
from renderer.change.findings import Change, Finding, Level, Plan
from renderer.engines import vcluster
from renderer.errors import Mark
from renderer.rendering.templating import parse_object
from renderer.rules._walk import located

SECTIONS = ("clusters", "databases", "vclusters")  # the entries that become units, in report order
FOLDED = 6  # objects named in one summary line; the rest are counted


@dataclass(frozen=True)
class Side:
    """One revision: its catalog (the base's file names begin with the revision: ``main:catalog/
    fleet.yaml``) and its output files, by path in the output folder."""

    catalog: Catalog
    files: dict[str, bytes]


@dataclass
class _Env:
    """One environment at one revision: positioned and normalised entries, by section and name."""

    spec: dict[str, Any]
    entries: dict[tuple[str, str], tuple[PMap, dict[str, Any]]]
    folders: dict[tuple[str, ...], tuple[str, str]]  # output folder -> (section, name)


def _environment(catalog: Catalog, env: str) -> _Env | None:
    if env not in catalog.environments:
        return None
    positioned = resolve(catalog, env)
    spec = with_schema_defaults(positioned)
    found: dict[tuple[str, str], tuple[PMap, dict[str, Any]]] = {}
    folders: dict[tuple[str, ...], tuple[str, str]] = {}
    for section in SECTIONS:
        for node, entry in zip(positioned.get(section) or [], spec.get(section) or []):
            found[(section, entry["name"])] = (node, entry)
            namespace = vcluster.namespace(entry) if section == "vclusters" else entry["namespace"]
            folders[(namespace, entry["name"])] = (section, entry["name"])
    return _Env(spec, found, folders)


def _objects(files: dict[str, bytes], env: str, same: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """The objects of one environment's output (not kustomizations or parameter files), but
    those whose file is the same at the other revision: a fleet of thousands changes a few."""
    found = {}
    for path, content in files.items():
        if (not path.startswith(env + "/") or not path.endswith(".yaml") or path.endswith("/kustomization.yaml")
                or same.get(path) == content):
            continue
        try:
            obj = parse_object(content.decode("utf-8"))
        except (yaml.YAMLError, ValueError):  # a file edited into something else: no object to compare
            continue
        if isinstance(obj, dict) and "kind" in obj:
            found[path] = obj
    return found


def _stores(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {store["name"]: store for store in spec.get("backupStores") or []}


def _decommissioned(spec: dict[str, Any] | None) -> dict[str, str]:
    return {item["name"]: item["reason"] for item in (spec or {}).get("decommissioned") or []}


class _Comparison:
    def __init__(self, old: Side, new: Side, env: str, out: str, plan: Plan) -> None:
        self.old, self.new, self.env, self.out, self.plan = old, new, env, out, plan
        self.before = _environment(old.catalog, env)
        self.after = _environment(new.catalog, env)
        self.allowed: dict[tuple[str, str], str | None] = {}

    def _mark(self, key: tuple[str, str], field: tuple[str, ...]) -> Mark:
        if self.after and key in self.after.entries:
            return located(self.after.entries[key][0], *field)[1]
        node = self.before.entries[key][0] if self.before else None
        return located(node, "name")[1] if node is not None else Mark("", 0, 0)

    def _allowance(self, key: tuple[str, str]) -> str | None:
        """The reason given for destructive changes of this entry in this change; None without
        one, or when it is the base's reason still (a reason is for one change, and is reviewed
        with it)."""
        if key in self.allowed:
            return self.allowed[key]
        after = self.after.entries.get(key) if self.after else None
        before = self.before.entries.get(key) if self.before else None
        if after is not None:
            reason = after[1].get("allowDestructive")
            earlier = before[1].get("allowDestructive") if before else None
            where = f"allowDestructive of {ENTRY_NOUNS[key[0]]} {key[1]}"
        else:
            reason = _decommissioned(self.after.spec if self.after else None).get(key[1])
            earlier = _decommissioned(self.before.spec if self.before else None).get(key[1]) if before else None
            where = f"decommissioned entry {key[1]}"
        if reason and reason == earlier:
            self.plan.notes.append(f"{self.env}: the {where} is unchanged since {self.plan.base}: a reason allows the "
                                   "change it was written for; write a new one to allow this change")
            reason = None
        self.allowed[key] = reason
        return reason

    def _add(self, subject: str, finding: Finding, mark: Mark, key: tuple[str, str] | None) -> None:
        allowed = self._allowance(key) if key and finding.level is Level.DESTRUCTIVE else None
        self.plan.changes.append(Change(self.env, subject, finding, mark, allowed))

    def entries(self) -> set[tuple[str, str]]:
        """Every entry's changes; returns the entries removed."""
        before = self.before.entries if self.before else {}
        after = self.after.entries if self.after else {}
        old_stores = _stores(self.before.spec) if self.before else {}
        new_stores = _stores(self.after.spec) if self.after else {}
        removed = set()
        for key in sorted(before.keys() | after.keys(), key=lambda k: (SECTIONS.index(k[0]), k[1])):
            subject = f"{ENTRY_NOUNS[key[0]]} {key[1]}"
            if key not in after:
                removed.add(key)
                self._add(subject, Finding(Level.DESTRUCTIVE, "entry-removed", f"{subject} removed (or renamed)",
                                           "its objects that hold data stay in the cluster unmanaged (Prune=false, "
                                           "Delete=false): nothing reconciles or backs them up any more, and a new "
                                           "name is a new, empty " + ENTRY_NOUNS[key[0]]), self._mark(key, ()), key)
            elif key not in before:
                self._add(subject, Finding(Level.SAFE, "entry-added", f"{subject} added", "new objects, created by the "
                                           "GitOps engine"), self._mark(key, ()), key)
            else:
                diff = entries.EntryDiff(key[0], key[1], before[key][1], after[key][1], old_stores, new_stores)
                for finding in entries.check(diff):
                    self._add(subject, finding, self._mark(key, finding.field), key)
        return removed

    def _subject(self, path: str) -> tuple[str, tuple[str, str] | None]:
        folder = tuple(path.split("/")[1:-1])
        for side in (self.after, self.before):
            if side and folder in side.folders:
                key = side.folders[folder]
                return f"{ENTRY_NOUNS[key[0]]} {key[1]}", key
        if len(folder) == 1:
            return f"namespace {folder[0]}", None
        return "/".join(folder), None

    def _namespace_allowance(self, namespace: str, removed: set[tuple[str, str]]) -> str | None:
        """A namespace goes when its last entry goes: allowed when each of them is."""
        gone = [key for key in removed if self.before and any(
            folder[0] == namespace and entry == key for folder, entry in self.before.folders.items())]
        reasons = [self._allowance(key) for key in sorted(gone)]
        return "; ".join(r for r in reasons if r) if gone and all(reasons) else None

    def objects(self, removed: set[tuple[str, str]]) -> None:
        old = objects.identities(_objects(self.old.files, self.env, self.new.files))
        new = objects.identities(_objects(self.new.files, self.env, self.old.files))
        folded: dict[str, tuple[tuple[str, str] | None, list[str]]] = {}
        for path, finding in objects.compare(old, new):
            subject, key = self._subject(path)
            if key in removed:
                continue  # said by entry-removed
            if finding.level is Level.SAFE:
                folded.setdefault(subject, (key, []))[1].append(finding.summary)
                continue
            mark = self._mark(key, ()) if key else Mark(f"{self.out}/{path}", 0, 0)
            if key is None and finding.rule == "data-object-removed" and subject.startswith("namespace "):
                allowed = self._namespace_allowance(subject.split(" ", 1)[1], removed)
                self.plan.changes.append(Change(self.env, subject, finding, mark, allowed))
            else:
                self._add(subject, finding, mark, key)
        for subject, (key, summaries) in folded.items():
            shown = "; ".join(summaries[:FOLDED]) + (f"; {len(summaries) - FOLDED} more" if len(summaries) > FOLDED else "")
            mark = self._mark(key, ()) if key else Mark(f"{self.out}/{self.env}", 0, 0)
            self.plan.changes.append(Change(self.env, subject, Finding(Level.SAFE, "objects", shown, "applied by the "
                                                                       "GitOps engine"), mark))


def compare(old: Side, new: Side, envs: list[str], out: str, plan: Plan) -> Plan:
    """Fill ``plan`` with the changes of each environment in ``envs``."""
    for env in envs:
        comparison = _Comparison(old, new, env, out, plan)
        removed = comparison.entries()
        comparison.objects(removed)
    return plan

