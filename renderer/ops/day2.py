"""Day-2 operations as catalog edits: each command changes one catalog or overlay file the way a
person would (yamltext), refuses what ``plan`` calls destructive unless told otherwise, writes the
file atomically, and renders.  Everything here can be written by hand too: the commands only save
looking up the fields."""
from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from renderer import commands
from renderer.catalog.load import Catalog, ENTRY_NOUNS, load_sources, merge, resolve, with_schema_defaults
from renderer.catalog.nodes import PMap
from renderer.catalog.sources import Source, read_sources
from renderer.change.compare import Side, compare
from renderer.change.findings import Level, Plan
from renderer.errors import DbfleetError, Mark, Problem
from renderer.ops import yamltext
from renderer.ops.yamltext import Step
from renderer.rendering.build import render_all
from renderer.rendering.render import Bundle
from renderer.rendering.templating import Templates
from renderer.reporting import Reporter
from renderer.rules._walk import located
from renderer.validate import DEFAULT_KUBE_VERSION
from renderer.writing import output

Edits = list[tuple[list[Step], Any]]  # (path inside the entry, value)


@dataclass
class Entry:
    """The entry a command works on: its section and name, as the catalog writes it (``written``,
    the overlay merged in with --env) and resolved with every default (``resolved``)."""

    section: str
    name: str
    written: dict[str, Any]
    resolved: dict[str, Any]  # in the first environment the edit reaches
    everywhere: list[dict[str, Any]]  # resolved in each environment the edit reaches


@dataclass
class Request:
    """What a command asks for; ``make`` turns the entry into edits and a sentence."""

    sections: tuple[str, ...]  # where the entry may be: clusters, databases
    name: str
    make: Callable[[Entry], tuple[Edits, str]]
    new_entry: str | None = None  # restore: the entry to add, beside ``name``


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _find(catalog: Catalog, env: str | None, sections: tuple[str, ...], name: str) -> Entry:
    # As written: the catalog's entry, with the overlay's merged over it for --env (no defaults).
    written = merge(catalog.spec, catalog.overlays[env]) if env and env in catalog.overlays else catalog.spec
    specs = [with_schema_defaults(resolve(catalog, e)) for e in ([env] if env else catalog.environments)]
    for section in sections:
        for node in written.get(section) or []:
            if node["name"] == name:
                resolved = [e for spec in specs for e in spec.get(section) or [] if e["name"] == name]
                return Entry(section, name, _plain(node), resolved[0], resolved)
    known = sorted(str(e["name"]) for s in sections for e in written.get(s) or [])
    close = difflib.get_close_matches(name, known, n=1)
    what = " or ".join(ENTRY_NOUNS[s] for s in sections)
    raise DbfleetError([Problem(Mark(name, 0, 0), f"no {what} named {name!r}" + (f" in {env}" if env else "")
                                + (f" (did you mean {close[0]!r}?)" if close else ""))])


def _document(sources: list[Source], kind: str, match: Callable[[Any], bool]) -> tuple[int, int] | None:
    """The first document of ``kind`` that ``match`` accepts: (index of its source, of the document)."""
    for index, source in enumerate(sources):
        for number, doc in enumerate(yamltext.documents(source.text)):
            kind_node = yamltext.find(doc, ["kind"])
            if kind_node is not None and kind_node.value == kind and match(doc):
                return index, number
    return None


def _target(catalog_sources: list[Source], overlay_sources: list[Source], env: str | None, section: str,
            name: str) -> tuple[list[Source], tuple[int, int]]:
    """The file (and document) to edit: the overlay of --env, else the catalog file that defines
    the entry."""
    if env:
        found = _document(overlay_sources, "Overlay",
                          lambda doc: getattr(yamltext.find(doc, ["metadata", "name"]), "value", None) == env)
        if found is None:
            raise DbfleetError([Problem(Mark("--env", 0, 0), f"no overlay file defines environment {env!r}")])
        return overlay_sources, found
    found = _document(catalog_sources, "Catalog",
                      lambda doc: yamltext.find(doc, ["spec", section, ("name", name)]) is not None)
    if found is None:
        raise DbfleetError([Problem(Mark(name, 0, 0), f"{ENTRY_NOUNS[section]} {name!r} is added by an overlay: give its "
                                                      "environment with --env")])
    return catalog_sources, found


def _shadowed(catalog: Catalog, entry: Entry, edits: Edits) -> list[Problem]:
    """Overlays that set what the catalog edit changes: the edit does not reach those environments."""
    found = []
    for env, overlay in sorted(catalog.overlays.items()):
        for item in overlay.get(entry.section) or []:
            if isinstance(item, PMap) and item.get("name") == entry.name:
                for path, _ in edits:
                    keys = [step for step in path if isinstance(step, str)]
                    value, mark = located(item, *keys)
                    if value is not None and len(keys) == len(path):
                        found.append(Problem(mark, f"{env} sets {'.'.join(keys)} of {entry.name} itself: the edit "
                                                   f"does not change {env} (add --env {env} for that)", "warning"))
    return found


def _regular(path: Path) -> None:
    if path.is_symlink():
        raise DbfleetError([Problem(Mark(str(path), 0, 0), "is a symbolic link: dbfleet edits only regular files")])


def _write(path: Path, text: str) -> None:
    """Replace a file the user owns in one step, never through a symlink."""
    _regular(path)
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(request: Request, *, reporter: Reporter, paths: tuple[Path, ...], overlays: Path | None, env: str | None,
        out: Path, allow_destructive: bool) -> int:
    catalog_files, overlay_files = commands.input_files(paths, overlays)
    catalog_sources = read_sources(catalog_files, Path.cwd())
    overlay_sources = read_sources(overlay_files, Path.cwd())
    catalog = load_sources(catalog_sources, overlay_sources, [env] if env else None)
    entry = _find(catalog, env, request.sections, request.name)
    if request.new_entry:
        taken = [s for s in ("clusters", "databases", "vclusters") for e in catalog.spec.get(s) or []
                 if e["name"] == request.new_entry]
        if taken or (env and any(e.get("name") == request.new_entry for e in resolve(catalog, env).get(entry.section) or [])):
            raise DbfleetError([Problem(Mark(request.new_entry, 0, 0), f"{request.new_entry!r} is taken: a restore "
                                        "makes a new entry (never an in-place overwrite); choose another name")])
    edits, said = request.make(entry)
    sources, (index, number) = _target(catalog_sources, overlay_sources, env, entry.section, entry.name)
    target = (catalog_files if sources is catalog_sources else overlay_files)[index]
    _regular(target)
    source = sources[index]
    text = source.text
    base: list[Step] = ["spec", entry.section, ("name", request.new_entry or entry.name)]
    try:
        for path, value in edits:
            text = yamltext.set_value(text, yamltext.documents(text)[number], base + path, value)
    except yamltext.EditError as exc:
        raise DbfleetError([Problem(Mark(source.name, 0, 0), f"cannot edit: {exc}")]) from None
    edited = list(sources)
    edited[index] = Source(source.name, text)
    new_catalog_sources, new_overlay_sources = (
        (edited, overlay_sources) if sources is catalog_sources else (catalog_sources, edited))
    try:
        after = load_sources(new_catalog_sources, new_overlay_sources)
    except DbfleetError as exc:
        raise DbfleetError([p._replace(message=f"{p.message} (after the edit)") for p in exc.problems]) from None
    if not env and not request.new_entry:
        reporter.problems(_shadowed(catalog, entry, edits))
    found: list[Plan] = []

    def classify_then_write(rendered: Catalog, bundle: Bundle) -> None:
        """The edited catalog rendered and valid: compare with the output on disk (what the
        catalog renders now), refuse what is destructive, else write the catalog file."""
        envs = [env] if env else rendered.environments
        plan = compare(Side(catalog, _current_output(out, envs, catalog)), Side(rendered, bundle.files), envs, str(out),
                       Plan("the catalog on disk", "", envs))
        _refuse(plan, allow_destructive)
        _write(target, text)
        found.append(plan)

    inputs = commands.Inputs(paths=paths, overlays=overlays, out=out, envs=(), templates=None, schema_locations=(),
                             chart_schema_locations=(), kube_version=DEFAULT_KUBE_VERSION,
                             ignore_missing_schemas=False, jobs=os.cpu_count() or 1)
    try:
        code = commands.render(inputs, reporter=_Quiet(reporter), check=False, catalog=after,
                               before_write=classify_then_write)
    except BaseException:
        if found:  # the catalog was written, its output was not: they stay in step
            _write(target, source.text)
        raise
    reporter.diff("".join(difflib.unified_diff(source.text.splitlines(True), text.splitlines(True),
                                               f"a/{source.name}", f"b/{source.name}")))
    changes = found[0].changes
    levels = sorted({c.finding.level for c in changes}, reverse=True)
    reporter.result(f"{said} in {source.name}" + (f" ({levels[0].label})" if levels else "") + f"; rendered into {out}",
                    file=source.name, changes=[c.as_json() for c in changes])
    return code


def _current_output(out: Path, envs: list[str], catalog: Catalog) -> dict[str, bytes]:
    """What the catalog renders now: the output folder, else (none yet) a render in memory."""
    files = {rel: (out / rel).read_bytes() for rel in output.disk_files(out) if output.in_scope(rel, envs)} \
        if out.is_dir() else {}
    return files or render_all(catalog, Templates(), jobs=os.cpu_count() or 1).files


def _refuse(plan: Plan, allow_destructive: bool) -> None:
    destructive: dict[tuple[Mark, str, Any], list[str]] = {}  # one problem for a change in several environments
    for c in plan.changes:
        if c.finding.level is Level.DESTRUCTIVE:
            destructive.setdefault((c.mark, c.subject, c.finding), []).append(c.env)
    if destructive and not allow_destructive:
        raise DbfleetError([Problem(mark, f"refused: {subject}: {finding.summary} is destructive (in {', '.join(envs)}) "
                                          f"[{finding.rule}]: {finding.evidence}; pass --allow-destructive if that is "
                                          "intended") for (mark, subject, finding), envs in destructive.items()])


class _Quiet:
    """The render after an edit reports its problems, not its result line."""

    def __init__(self, reporter: Reporter) -> None:
        self.wants_data = reporter.wants_data
        self.problems = reporter.problems
        self.diff = reporter.diff
        self.raw = reporter.raw

    def result(self, message: str, **data: Any) -> None:
        pass


# --- the commands ---------------------------------------------------------------------------


def scale(replicas: int | None, pooler_replicas: int | None) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        edits: Edits = []
        if replicas is not None:
            edits.append((["replicas"], replicas))
        if pooler_replicas is not None:
            if not any(e["pooler"]["enabled"] for e in entry.everywhere):
                raise DbfleetError([Problem(Mark(entry.name, 0, 0), f"{entry.name} has no pooler (pooler.enabled)")])
            edits.append((["pooler", "replicas"], pooler_replicas))
        if not edits:
            raise DbfleetError([Problem(Mark("scale", 0, 0), "give --replicas, --pooler-replicas or both")])
        parts = ([f"{replicas} replicas"] if replicas is not None else []) + (
            [f"{pooler_replicas} pooler replicas"] if pooler_replicas is not None else [])
        return edits, f"scaled {entry.name} to {' and '.join(parts)}"
    return make


def resize(storage: str) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        return [(["storage", "size"], storage)], f"resized {entry.name}'s storage to {storage}"
    return make


def upgrade(version: str, server_name: str | None) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        edits: Edits = [(["version"], version)]
        old_major = re.match(r"[0-9]+", str(entry.resolved["version"] or ""))
        new_major = re.match(r"[0-9]+", version)
        said = f"set {entry.name}'s version to {version}"
        archived = any(e["backup"]["method"] == "native" for e in entry.everywhere)
        if (entry.resolved["engine"] == "postgresql" and archived and old_major and new_major
                and old_major.group() != new_major.group()):
            # pg_upgrade starts a new system: its WAL must not archive over the old one's.
            name = server_name or f"{entry.name}-pg{new_major.group()}"
            edits.append((["backup", "serverName"], name))
            said += f", archiving to serverName {name}"
        elif server_name:
            edits.append((["backup", "serverName"], server_name))
        return edits, said
    return make


def restart(at: str) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        if entry.resolved["engine"] == "sqlite" and entry.resolved["sqlite"]["attachTo"] is not None:
            attach = entry.resolved["sqlite"]["attachTo"]
            raise DbfleetError([Problem(Mark(entry.name, 0, 0), f"{entry.name} runs in your {attach['kind']} "
                                        f"{attach['name']}: restart it (kubectl rollout restart)")])
        return [(["restartedAt"], at)], f"asked for a rolling restart of {entry.name} at {at}"
    return make


def backup(backup_id: str) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        return [(["backup", "onDemand"], backup_id)], f"asked for backup {entry.name}-{backup_id}"
    return make


# Settings of an entry a restored copy must not share: its own name, what acts once, what names
# it to clients or on a server (the copy is reached once you switch to it).
NOT_COPIED = {"name", "restore", "restartedAt", "allowDestructive", "proxy", "owner", "credentialsSecret"}


def restore(new: str, to_time: str | None, backup_name: str | None) -> Callable[[Entry], tuple[Edits, str]]:
    def make(entry: Entry) -> tuple[Edits, str]:
        resolved = entry.resolved
        backup = resolved["backup"]
        method = "dump" if entry.section == "databases" else "native"
        if backup["method"] != method or not backup["store"]:
            raise DbfleetError([Problem(Mark(entry.name, 0, 0), f"{entry.name} has no {method} backups to restore from "
                                        "(backup.store)")])
        copy = {k: v for k, v in entry.written.items() if k not in NOT_COPIED}
        if isinstance(copy.get("backup"), dict):
            copy["backup"] = {k: v for k, v in copy["backup"].items() if k not in ("onDemand", "serverName")}
        wanted: dict[str, Any] = {"fromStore": backup["store"]}
        if entry.section == "clusters":
            wanted["sourceCluster"] = entry.name
            if backup["serverName"]:
                wanted["serverName"] = backup["serverName"]
            if backup_name:
                wanted["backup"] = backup_name
            if to_time:
                wanted["pointInTime"] = to_time
        else:
            if to_time:
                raise DbfleetError([Problem(Mark("--to-time", 0, 0), "a dump restores whole: name one with --backup")])
            wanted["dump"] = backup_name or "latest"
            # A database of its own on the server: its own owner role and credentials.
            copy["owner"] = re.sub(r"[^a-z0-9_]", "_", new)
            if entry.written.get("credentialsSecret"):
                copy["credentialsSecret"] = f"{new}-db"
        copy["restore"] = wanted
        point = f" at {to_time}" if to_time else (f" from {backup_name}" if backup_name else "")
        return [([], copy)], f"added {new}, restored from {entry.name}'s backups{point}"
    return make

