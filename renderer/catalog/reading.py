"""A catalog as rendering reads it: each environment's spec (resolved, with the schema's defaults),
where its entries are written, and what the schema and the rules find in it.

``read_stages`` makes these in stages (the templates the catalog may render, the specs, the
rules' verdict), which a forked process can make while the rendering one imports and compiles
what it needs (parsing 1,000 clusters takes a tenth of a second): what it sends is plain data,
not the positioned catalog (which costs ten times as much to send).
"""
from __future__ import annotations

import marshal
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from renderer import rules
from renderer.catalog import chart_values
from renderer.catalog.load import Catalog, resolve, revalidate, with_schema_defaults
from renderer.catalog.nodes import PMap
from renderer.catalog.sources import Source
from renderer.errors import DbfleetError, Mark, Problem
from renderer.forked import Staged
from renderer.rules._walk import located

Places = dict[tuple[str, int | None], tuple[str, Mark]]


class Read:
    """What rendering needs of a catalog."""

    __slots__ = ("name", "environments", "sources", "specs", "places")

    def __init__(self, name: str, environments: list[str], sources: tuple[Source, ...], specs: dict[str, dict[str, Any]],
                 places: dict[str, Places]) -> None:
        self.name = name
        self.environments = environments
        self.sources = sources
        self.specs = specs  # each environment's, resolved, with the schema's defaults (a render takes them)
        self.places = places  # each environment's: where its entries are written

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to the process that renders: the specs are plain data, which marshal writes and
        # reads faster than pickle (1,000 clusters: 8.2 -> 4.8 ms, 7.9 -> 6.4 ms).
        return _received, (self.name, self.environments, self.sources, marshal.dumps(self.specs), self.places)

    def entries(self) -> int:
        """Clusters and databases, in all environments."""
        return sum(len(spec.get(section) or ()) for spec in self.specs.values() for section in ("clusters", "databases"))


def _received(name: str, environments: list[str], sources: tuple[Source, ...], specs: bytes,
              places: dict[str, Places]) -> Read:
    return Read(name, environments, sources, marshal.loads(specs), places)


class Refused(NamedTuple):
    """A catalog that cannot be read: what loading it raised."""

    problems: list[Problem]
    exit_code: int


class Expected(NamedTuple):
    """Where the names of the templates a catalog's environments may render start (``expected``)."""

    starts: tuple[str, ...]

    def templates(self, names: list[str]) -> list[str]:
        return [name for name in names if name.startswith(self.starts)]


# Where the names of the templates every catalog may render start (known before it is read).
ALWAYS_EXPECTED = Expected(("common/",))
# The templates of each GitOps engine's objects (engines/gitops.py), by the start of their names.
_GITOPS = {"argocd": ("gitops/applicationset.", "gitops/argocd-"), "flux": ("gitops/gitrepository.", "gitops/kustomization.")}


def expected(specs: list[Mapping[str, Any]]) -> Expected:
    """The templates a catalog may render, from its spec and its overlays' (``specs``, as
    written): each engine's folder for a cluster of the engine, and so on.  More than planning
    uses (a cluster need not have a pooler), and known before it: for work that does not wait on
    the plan."""
    starts = set(ALWAYS_EXPECTED.starts)
    for spec in specs:
        starts.update(f"{cluster['engine']}/" for cluster in spec.get("clusters") or ()
                      if isinstance(cluster, Mapping) and isinstance(cluster.get("engine"), str))
        starts.update(folder for section, folder in (("databases", "databases/"), ("vclusters", "vcluster/"))
                      if spec.get(section))
        if isinstance(spec.get("proxy"), Mapping) and spec["proxy"].get("enabled") is True:
            starts.add("proxy/")
        engine = spec["gitops"].get("engine") if isinstance(spec.get("gitops"), Mapping) else None
        starts.update(_GITOPS.get(engine, ()) if isinstance(engine, str) else ())
    return Expected(tuple(sorted(starts)))


Stage = Expected | Read | Refused | list[Problem]


def read_stages(load: Callable[[], Catalog]) -> Iterator[Stage]:
    """The catalog ``load`` gives: first which templates it may render (or ``Refused``), then the
    catalog as a ``Read``, then what its schema and rules find in it (warnings too)."""
    try:
        catalog = load()
    except DbfleetError as exc:
        yield Refused(exc.problems, exc.exit_code)
        return
    yield expected([catalog.spec, *catalog.overlays.values()])
    resolved = {env: resolve(catalog, env) for env in catalog.environments}
    yield Read(catalog.name, catalog.environments, catalog.sources,
               {env: with_schema_defaults(spec) for env, spec in resolved.items()},
               {env: entry_places(spec) for env, spec in resolved.items()})
    found = catalog_problems(catalog, resolved)
    del catalog, resolved  # not held while the generator waits after its last value: a render follows
    yield found


class Reading:
    """A catalog being read: here, when first asked for, or ahead in a forked process."""

    def __init__(self, load: Callable[[], Catalog], ahead: bool = False) -> None:
        self._load = load
        self.stages = Staged(read_stages(load))
        if ahead:
            # Both processes validate with jsonschema-rs (the catalog there, the output here):
            # loaded once, before the fork, rather than once in each (25 ms).
            import jsonschema_rs  # noqa: F401

            self.stages.fork()

    def specs_again(self) -> dict[str, dict[str, Any]]:
        """Each environment's spec, read again here (a render frees them once it has planned)."""
        stages = read_stages(self._load)
        next(stages)  # the templates expected
        read = next(stages)
        assert isinstance(read, Read)
        return read.specs

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stages.close()


def catalog_problems(catalog: Catalog, resolved: dict[str, PMap]) -> list[Problem]:
    """What the schema and the rules find in each environment (``resolved``), warnings too, and,
    when no environment has an error, what the rules across environments find."""
    from renderer.rules.fleet import check_fleet  # (in the forked process that runs the rules, when one does)

    found = by_environment({env: environment_problems(catalog, env, spec) for env, spec in resolved.items()})
    if not any(p.severity == "error" for p in found):
        found += check_fleet(resolved)
    return found


def check_environment(catalog: Catalog, env: str) -> tuple[dict[str, Any], list[Problem]]:
    """The resolved, normalised spec of one environment and the problems the rules found."""
    spec = resolve(catalog, env)
    return with_schema_defaults(spec), environment_problems(catalog, env, spec)


def environment_problems(catalog: Catalog, env: str, spec: PMap) -> list[Problem]:
    """What the schema (where an overlay changed the catalog) and the rules find in one
    environment (``spec``: resolved), warnings too."""
    problems, formats = revalidate(spec, catalog.overlays.get(env), catalog.spec)
    if not problems:  # the structure holds: the rules can read it
        problems += chart_values.problems(spec) + list(rules.check(spec))
    return catalog.problems + formats + problems


def by_environment(found: dict[str, list[Problem]]) -> list[Problem]:
    """Each problem once; those that only some environments have say which."""
    envs: dict[Problem, list[str]] = {}
    for env, problems in found.items():
        for problem in problems:
            envs.setdefault(problem, []).append(env)
    return [
        problem if len(where) == len(found) else problem._replace(message=f"{problem.message} (in {', '.join(where)})")
        for problem, where in envs.items()
    ]


def entry_places(spec: PMap) -> Places:
    """Where each unit's source is written in the catalog: an entry's name, or a section."""
    places: Places = {}
    for section in ("clusters", "databases", "vclusters"):
        for index, entry in enumerate(spec.get(section) or []):
            if isinstance(entry, PMap):
                places[(section, index)] = (f"{section}[{index}]", located(entry, "name")[1])
    for section in ("proxy", "gitops"):
        if section in spec:
            places[(section, None)] = (section, spec.keymarks.get(section, spec.mark))
    return places
