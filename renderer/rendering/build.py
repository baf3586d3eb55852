"""Every environment of a catalog, rendered and validated: shared with forked processes when the
catalog is large, since rendering and validating 1,000 clusters costs two seconds of one core."""
from __future__ import annotations

import os
from dataclasses import replace
from functools import partial
from typing import Any, Callable, Iterable, Iterator

from renderer.catalog.load import Catalog
from renderer.catalog.reading import ALWAYS_EXPECTED, Expected, Read, Reading, Refused, Stage
from renderer.errors import DbfleetError, Problem, raise_if
from renderer.forked import Forked
from renderer.planning.components import Cached, Unit
from renderer.planning.plan import plan
from renderer.rendering.render import Bundle, RenderedObject, Sent, Validator, assemble, render_unit
from renderer.rendering.templating import Templates
from renderer.rendering.unit_cache import UnitCache
from renderer.writing.output import Holder, Stamps, create_held, release

PARALLEL_FROM = 400  # units; below this, starting processes costs more than it saves
RULES_AHEAD_FROM = 300  # entries; below this, the rules cost less than starting a process


def _to_validate(objects: list[RenderedObject], valid: frozenset[str]) -> Iterator[RenderedObject]:
    """What the API server will see (not the files that kustomize or Argo CD read), but for
    objects whose very bytes (their sha256) validated cleanly before: validity is a function of the bytes."""
    return (obj for obj in objects if obj.applied and obj.digest not in valid)


# A share's units: each one's objects and what validating them found; what the validator learned
# (Validator.learned).  Sent: as a forked child sends it.
Share = tuple[list[tuple[list[RenderedObject], list[Problem]]], Any]
SentShare = tuple[list[tuple[list[Sent], list[Problem]]], Any]


def _render_units(work: list[tuple[str, Unit]], fleet: str, templates: Templates, validator: Validator | None,
                  valid: frozenset[str], keep_data: bool) -> Share:
    """Render and validate the units of ``work`` (emptied as it goes)."""
    done = []
    work.reverse()
    while work:  # each unit's contexts go once it is rendered (memory: a third of it at 10,000 clusters)
        env, unit = work.pop()
        objects = render_unit(unit, fleet, env, templates)
        done.append((objects, validator.validate(_to_validate(objects, valid)) if validator else []))
        if not keep_data:  # paths and bytes are what is left to do with them: 10,000 clusters' data is 300 MB
            for obj in objects:
                obj.data = {}
    return done, validator.learned() if validator else None


def _render_to_send(work: list[tuple[str, Unit]], fleet: str, templates: Templates, validator: Validator | None,
                    valid: frozenset[str]) -> SentShare:
    """A forked child's share, rendered, as it sends it."""
    done, learned = _render_units(work, fleet, templates, validator, valid, False)
    return [([obj.sent() for obj in objects], problems) for objects, problems in done], learned


class _HeldShare:
    """A forked child's units: rendered there, where their files' bytes then stay, for the writing
    of the output folder to ask it to create them (``output.create_held``)."""

    def __init__(self, work: list[tuple[str, Unit]], fleet: str, templates: Templates, validator: Validator | None,
                 valid: frozenset[str]) -> None:
        self._render = partial(_render_to_send, work, fleet, templates, validator, valid)
        self._files: dict[str, bytes] = {}

    def render(self) -> SentShare:
        sent = self._render()
        self._files = {path: content for objects, _ in sent[0] for path, content, *_ in objects}
        return sent

    def create(self, request: tuple[str, list[str]]) -> Stamps:
        return create_held(self._files, request)


def _received(share: SentShare) -> Share:
    done, learned = share
    return [([RenderedObject.received(sent) for sent in objects], problems) for objects, problems in done], learned


def _shares(weights: list[int], jobs: int) -> list[tuple[int, int]]:
    """``jobs`` runs of consecutive items, of about the same total weight (a unit's components:
    the objects it renders)."""
    bounds: list[tuple[int, int]] = []
    total, start, reached = sum(weights), 0, 0
    for index, weight in enumerate(weights):
        # An item goes to the next run when most of it lies beyond this run's part of the total.
        if len(bounds) < jobs - 1 and (reached + weight / 2) * jobs > total * (len(bounds) + 1):
            bounds.append((start, index))
            start = index
        reached += weight
    bounds.append((start, len(weights)))
    return bounds


def _fork_share(work: list[tuple[str, Unit]], fleet: str, templates: Templates, validator: Validator | None,
                valid: frozenset[str], specs_again: Callable[[], dict[str, dict[str, Any]]],
                hold: bool) -> Forked[SentShare]:
    """A forked child that renders the units of ``work`` (and, to ``hold`` them, keeps their
    files' bytes and creates them when asked).  Its units leave this process: should it send
    nothing, they are planned again here."""
    fallback = partial(_render_again, specs_again, fleet, templates, [(env, unit.folder) for env, unit in work],
                       validator, valid)
    if not hold:
        return Forked(partial(_render_to_send, work, fleet, templates, validator, valid), fallback=fallback)
    share = _HeldShare(work, fleet, templates, validator, valid)
    return Forked(share.render, fallback=fallback, serve=share.create)


def _firsts(work: list[tuple[str, Unit]]) -> dict[int, None]:
    """The indexes of the units that first use a template, in order (57 at most)."""
    seen: set[str] = set()
    first: dict[int, None] = {}
    for index, (_, unit) in enumerate(work):
        used = {component.template for component in unit.components}
        if not used <= seen:
            seen |= used
            first[index] = None
    return first


def _merged(first: dict[int, None], done_first: list[Any], done_rest: list[Any]) -> list[Any]:
    """The units' results in their order: those at the indexes ``first``, and the others'."""
    merged, firsts, rest = [], iter(done_first), iter(done_rest)
    for index in range(len(done_first) + len(done_rest)):
        merged.append(next(firsts) if index in first else next(rest))
    return merged


def _render_again(specs: Callable[[], dict[str, dict[str, Any]]], fleet: str, templates: Templates,
                  folders: list[tuple[str, tuple[str, ...]]], validator: Validator | None, valid: frozenset[str]) -> SentShare:
    """The units of these (environment, folder), planned again and rendered (a forked process's,
    which sent nothing: its error is raised here), as the process would have sent them."""
    planned = {(env, unit.folder): unit for env, spec in specs().items() for unit in plan(spec, fleet, env, templates.kind_of)}
    return _render_to_send([(env, planned[env, folder]) for env, folder in folders], fleet, templates, validator, valid)


def _without_contexts(plans: dict[str, list[Unit]]) -> dict[str, list[Unit]]:
    """Assembling reads each unit's folder and names, not the contexts it rendered from: a third
    of the memory at 10,000 clusters."""
    return {env: [replace(unit, components=()) for unit in units] for env, units in plans.items()}


def render_all(catalog: Catalog, templates: Templates, validator: Validator | None = None, jobs: int = 1,
               cache: UnitCache | None = None, keep_data: bool = True) -> Bundle:
    """Every environment; problems of all environments are reported together.

    With a ``validator``, the bundle's ``problems`` hold what validating every object found.  With
    ``jobs`` > 1 and a large catalog, forked processes share the rendering and validating (the
    bytes are the same: each unit renders on its own, and results keep their order); their
    objects then carry paths and bytes only.  With a ``cache`` (and a validator), units rendered
    and validated before come from it (a cluster whose entry and fleet context are unchanged is
    not even planned again), and what this render validates cleanly goes into it;
    the objects of a cached unit carry paths and bytes only (all objects do, without
    ``keep_data``), and an object of a changed unit whose bytes are those of an object the
    cache holds is not validated again."""
    with Reading(lambda: catalog) as reading:
        return render_read(reading, templates, validator, jobs, cache, keep_data)[1]


def render_read(reading: Reading, templates: Templates, validator: Validator | None = None, jobs: int = 1,
                cache: UnitCache | None = None, keep_data: bool = True, hold: bool = False
                ) -> tuple[Read, Bundle, list[Holder]]:
    """``render_all`` of the catalog being read (here, or ahead in a forked process), and what
    was read of it; with ``hold``, the forked processes that rendered a share of the units, which
    keep their files' bytes to create them when the output is written (release them after)."""
    stages = reading.stages
    if stages.forked:  # while the catalog is read there: what every catalog's units may use, then its own
        _prepare(templates, validator, ALWAYS_EXPECTED.templates(templates.names))
    expected = stages.take()
    if isinstance(expected, Refused):
        raise DbfleetError(expected.problems, expected.exit_code)
    assert isinstance(expected, Expected)
    if stages.forked:
        _prepare(templates, validator, expected.templates(templates.names))
    read = stages.take()
    assert isinstance(read, Read)
    # A large catalog's rules run in a forked process while this one renders: their verdict is
    # awaited before anything is returned, and what they refuse is the answer, whatever rendering
    # it made of the catalog (an engine may fail on it: they run on checked input otherwise).
    if not stages.forked and jobs > 1 and read.entries() >= RULES_AHEAD_FROM:
        stages.fork()
    found = None if stages.forked else _problems(stages.take())
    if found is not None:
        raise_if(found)
    try:
        bundle, holders = _render_checked(read, reading.specs_again, templates, validator, jobs, cache, keep_data, hold)
    except Exception:
        if found is None:
            raise_if(_problems(stages.take()))
        raise
    if found is None:
        try:
            found = _problems(stages.take())
            raise_if(found)
        except BaseException:
            release(holders)
            raise
    bundle.warnings = sorted(p for p in found if p.severity == "warning")
    return read, bundle, holders


def _prepare(templates: Templates, validator: Validator | None, names: Iterable[str],
             applied: Iterable[str] | None = None) -> None:
    """These templates, and the validators of the kinds of those ``applied`` (all, by default),
    made once, before forks: rather than once in each process."""
    names = list(dict.fromkeys(names))
    templates.compile(names)
    if validator:
        validator.prepare({kind for name in (names if applied is None else applied) if (kind := templates.kind_of(name))})


def _problems(stage: Stage) -> list[Problem]:
    assert isinstance(stage, list)
    return stage


def _render_checked(read: Read, specs_again: Callable[[], dict[str, dict[str, Any]]], templates: Templates,
                    validator: Validator | None, jobs: int, cache: UnitCache | None, keep_data: bool,
                    hold: bool) -> tuple[Bundle, list[Holder]]:
    fleet = read.name
    # What the plans do not hold of the specs goes before rendering (memory): ``specs_again``
    # reads them again, should a forked process's units be planned again.
    specs, read.specs = read.specs, {}
    cache = cache if validator else None  # the cache holds validated units only
    holders: list[Holder] = []
    entry_keys = {env: cache.entry_keys(spec, fleet, env) if cache else {} for env, spec in specs.items()}
    plans = {env: plan(spec, fleet, env, templates.kind_of, cache.cached_entries(entry_keys[env]) if cache else None)
             for env, spec in specs.items()}
    del specs
    work = [(env, unit) for env, units in plans.items() for unit in units]
    # A cluster's unit is planned from its entry and what its entry key digests beside it (the
    # premise of taking it unplanned): that key is its unit's too (no plan digested again).
    keys = [unit.cached.key if unit.cached else None if not cache
            else entry_keys[env][unit.instance] if unit.source[0] == "clusters" and unit.instance in entry_keys[env]
            else cache.key(unit, fleet, env) for env, unit in work]
    # Each cluster's unit by its entry's key, for the next render to take without planning it.
    entries = [(entry_keys[env][unit.instance], Cached(key, unit.delivered()))
               if key and unit.source[0] == "clusters" and unit.instance in entry_keys[env] else None
               for (env, unit), key in zip(work, keys)]
    rendered: list[list[RenderedObject] | None] = [cache.get(key) if cache else None for key in keys]
    todo = [i for i, objects in enumerate(rendered) if objects is None]
    valid = cache.valid_contents() if cache and todo else frozenset()
    jobs = min(jobs, os.cpu_count() or 1)
    # Assembling reads each unit's folder and names; the units to render are the only ones to
    # hold their contexts.
    plans = _without_contexts(plans)
    work = [work[i] for i in todo]
    if jobs > 1 and len(todo) >= PARALLEL_FROM:
        # Forked processes render a share each, and so does this one: its share's objects are
        # not pickled, and no process waits.  The shares' objects carry paths and bytes only.
        # The templates and validators the units use, made once, before the children share them.
        used = {(component.template, component.file is None) for _, unit in work for component in unit.components}
        _prepare(templates, validator, (template for template, _ in used),
                 (template for template, applied in used if applied))
        # The units that first use a template render here before the children fork, and they
        # inherit what those made (skeletons, emit plans, decided strings, CEL outcomes, imports):
        # otherwise each process makes them again (a first unit costs 15 to 20 times another).
        first = _firsts(work)
        done_first, _ = _render_units([work[i] for i in first], fleet, templates, validator, valid, False)
        rest = [unit for i, unit in enumerate(work) if i not in first]
        shares = _shares([len(unit.components) for _, unit in rest], jobs)
        children = [_fork_share(rest[start:end], fleet, templates, validator, valid, specs_again, hold)
                    for start, end in shares[1:]]
        try:
            del rest[shares[0][1]:], work
            done_rest, _ = _render_units(rest, fleet, templates, validator, valid, False)
            for child in children:  # (closed once they sent their share, but those that serve)
                part, learned = _received(child.result())
                done_rest += part
                if validator:
                    validator.learn(learned)
                if child.serving:
                    holders.append(Holder(child, frozenset(obj.path for objects, _ in part for obj in objects)))
        except BaseException:
            for child in children:
                child.close()
            raise
        done = _merged(first, done_first, done_rest)
    else:
        done, _ = _render_units(work, fleet, templates, validator, valid, keep_data)
    problems = []
    for i, (objects, found_in_unit) in zip(todo, done):
        rendered[i] = objects
        problems += found_in_unit
        if cache and not found_in_unit:
            cache.put(keys[i], objects)
    if cache:
        for entry in entries:
            if entry:
                cache.put_entry(*entry)
    bundle = Bundle(problems=problems + (validator.missing_problems() if validator else []))
    start = 0
    try:
        for env, units in plans.items():
            assemble(env, units, [objects or [] for objects in rendered[start:start + len(units)]], bundle,
                     read.places[env])
            start += len(units)
    except BaseException:
        release(holders)
        raise
    return bundle, holders
