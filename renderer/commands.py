"""What each command does, as plain functions of keyword arguments (the CLI only parses).

What only some commands need is imported where they need it: ``render --check`` with nothing
changed runs in every pre-commit hook, and reads no template, schema or catalog parser.
"""
from __future__ import annotations

import functools
import marshal
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from renderer.catalog.sources import Source, read_inputs, read_sources, yaml_files
from renderer.errors import DbfleetError, Mark, Problem, raise_if
from renderer.reporting import Reporter
from renderer.validate import DEFAULT_KUBE_VERSION, Validators
from renderer.writing import output
from renderer.writing.cache import cache_root, store_atomically
from renderer.writing.fingerprint import builtin_templates_dir, code_digest, inputs_digest

if TYPE_CHECKING:
    from renderer.catalog.load import Catalog
    from renderer.catalog.reading import Read, Reading
    from renderer.change.revision import Revision
    from renderer.rendering.render import Bundle, RenderedObject
    from renderer.rendering.templating import Templates
    from renderer.rendering.unit_cache import UnitCache

DEFAULT_CATALOG = Path("catalog")
DEFAULT_OVERLAYS = Path("overlays")
# Exit codes, one meaning each, so CI can tell them apart (bad input is DbfleetError's 2).
STALE = 1  # render --check: the output folder differs from what the catalog renders
INVALID = 1  # validate: what it checks (the output) is invalid
INVALID_OUTPUT = 3  # render: the catalog is fine, but what it renders fails the schemas


def input_files(paths: Iterable[Path], overlays: Path | None) -> tuple[list[Path], list[Path]]:
    """The catalog and overlay files; a path the user named that is not there is bad input, and
    so is a repository with no catalog/ (the default overlays/ may be absent: one environment)."""
    problems = [Problem(Mark(str(p), 0, 0), "no such file or folder") for p in paths if not p.exists()]
    if not paths and not DEFAULT_CATALOG.is_dir():
        problems.append(Problem(Mark(f"{DEFAULT_CATALOG}/", 0, 0), f"no such folder here ({Path.cwd()}): run dbfleet in the "
                                "repository that holds the catalog, give the catalog's path, or start one with dbfleet init"))
    if overlays is not None and not overlays.is_dir():
        problems.append(Problem(Mark(str(overlays), 0, 0), "--overlays: no such folder"))
    raise_if(problems)
    catalog_files = [f for p in (list(paths) or [DEFAULT_CATALOG]) for f in yaml_files(p)]
    overlay_dir = overlays or DEFAULT_OVERLAYS
    overlay_files = yaml_files(overlay_dir) if overlay_dir.is_dir() else []
    return catalog_files, overlay_files


def load_catalog(paths: Iterable[Path], overlays: Path | None, envs: Iterable[str] = ()) -> Catalog:
    """Read, parse and check the catalog and overlays (all environments without ``envs``)."""
    from renderer.catalog.load import load  # YAML and the catalog's schema: not for an unchanged check

    return load(*input_files(paths, overlays), Path.cwd(), list(envs) or None)


def _digests(sources: Sequence[Source], code: str, envs: Iterable[str]) -> dict[str, str]:
    return {env: inputs_digest(code, sources, env) for env in envs}


def _render(inputs: Inputs, validators: Validators, reporter: Reporter, invalid: int,
            catalog: Catalog | None = None, hold: bool = False
            ) -> tuple[Read, Bundle, list[output.Holder], Callable[[], None]]:
    """Load (unless given the ``catalog``), render and validate; raise on bad input (2) or invalid
    output (``invalid``); report warnings.  With ``hold``, the forked processes that rendered a
    share of the units keep its files to create them (the holders: release them).  Returns too
    what keeps the rendered units in the user's cache, for the caller to run when it suits it:
    while the holders create their files (0.1 s of a 10,000-cluster render, 84 MB)."""
    with _reading(inputs, catalog) as reading:  # first: a large catalog is read while this process imports
        from renderer.rendering.build import render_read

        cache = _unit_cache(inputs)
        if cache:
            validators.outcomes.known = cache.outcomes
        templates = _templates(inputs.templates)
        read, bundle, holders = render_read(reading, templates, validators, inputs.jobs, cache, keep_data=False,
                                            hold=hold)
    try:
        _keep_compiled(templates)
        reporter.problems(bundle.warnings)
        if bundle.problems:
            raise DbfleetError(bundle.problems, invalid)
    except BaseException:
        output.release(holders)
        raise
    if cache and not validators.missing:  # every object was validated: the units can be trusted
        return read, bundle, holders, functools.partial(cache.save, validators.outcomes.used)
    return read, bundle, holders, _nothing


def _nothing() -> None:
    pass


READ_AHEAD_FROM = 100_000  # characters of catalog and overlays; below this, reading costs less than starting a process


def _reading(inputs: Inputs, catalog: Catalog | None) -> Reading:
    """The ``catalog``, or the one the input files hold: a large one read ahead, by a forked process
    (with ``jobs`` > 1), while this one imports and compiles what rendering needs."""
    from renderer.catalog.reading import Reading

    if catalog is not None:
        given = catalog
        return Reading(lambda: given)
    from renderer.catalog.load import load_sources

    catalog_sources, overlay_sources = read_inputs(*input_files(inputs.paths, inputs.overlays), Path.cwd())
    envs = list(inputs.envs) or None
    size = sum(len(source.text) for source in catalog_sources + overlay_sources)
    ahead = inputs.jobs > 1 and size >= READ_AHEAD_FROM
    if ahead:  # what the rules there and planning here both import: once, before the fork (8 ms)
        import renderer.kube.cron, renderer.kube.versions, renderer.planning.locations, renderer.rules.secrets  # noqa: F401
    return Reading(lambda: load_sources(catalog_sources, overlay_sources, envs), ahead=ahead)


def _unit_cache(inputs: Inputs) -> UnitCache | None:
    """The units of the last render into this output folder; none with the user's own schema
    locations, which can change without dbfleet knowing."""
    from renderer.rendering.unit_cache import UnitCache, salt

    if inputs.schema_locations or inputs.chart_schema_locations:
        return None
    options = (inputs.kube_version, inputs.ignore_missing_schemas)
    return UnitCache(output.cached_path(inputs.out, "units", ".marshal"), salt(inputs.code, options))


def _templates(folder: Path | None) -> Templates:
    """The templates, with those compiled by earlier runs (the user's cache)."""
    from renderer.rendering.jinja_env import Compiled
    from renderer.rendering.templating import TemplateError, Templates

    path = _compiled_path()
    try:
        stored = marshal.loads(path.read_bytes()) if not path.is_symlink() else {}
    except (OSError, ValueError, EOFError, TypeError):
        stored = {}
    compiled = Compiled(stored if isinstance(stored, dict) else {})
    try:
        return Templates(folder, compiled)
    except TemplateError as exc:
        raise DbfleetError([Problem(Mark(str(folder or "templates"), 0, 0), str(exc))]) from None


def _keep_compiled(templates: Templates) -> None:
    """Keep what this run compiled, for the next."""
    if templates.compiled is not None and templates.compiled.changed:
        store_atomically(_compiled_path(), marshal.dumps(templates.compiled.stored))


def _compiled_path() -> Path:
    return cache_root() / "templates.marshal"


def _validators(inputs: Inputs) -> Validators:
    def split(values: tuple[str, ...]) -> list[str]:
        return [location for value in values for location in value.split(",") if location]

    return Validators(split(inputs.schema_locations), inputs.kube_version, inputs.ignore_missing_schemas,
                      split(inputs.chart_schema_locations))


@dataclass(frozen=True)
class Inputs:
    """What ``render`` and ``validate`` read, and how they validate: the shared options."""

    paths: tuple[Path, ...]
    overlays: Path | None  # None: overlays/ if there is one
    out: Path
    envs: tuple[str, ...]
    templates: Path | None
    schema_locations: tuple[str, ...]
    chart_schema_locations: tuple[str, ...]
    kube_version: str
    ignore_missing_schemas: bool
    jobs: int

    @functools.cached_property
    def code(self) -> str:
        """The digest of dbfleet's code and the templates it reads: once per command (the check
        record and the unit cache both need it)."""
        return code_digest([builtin_templates_dir()] + ([self.templates] if self.templates else []))


# Runs once the output is rendered and valid, before anything is written: it may refuse (raise).
BeforeWrite = Callable[["Catalog", "Bundle"], None]


def render(inputs: Inputs, *, reporter: Reporter, check: bool, catalog: Catalog | None = None,
           before_write: BeforeWrite | None = None) -> int:
    """``catalog``: render this one (already loaded, as a day-2 edit will leave the files)."""
    validators = _validators(inputs)  # a bad option is bad input, even when the check has nothing to do
    output.check_output_path(inputs.out)
    # One walk of the output folder for all the command does, taken when first needed.
    with output.locked(inputs.out), output.Scanning(inputs.out) as scanned:
        output.recover(inputs.out)  # an interrupted render's previous output, back in place
        return _render_locked(inputs, validators, scanned, reporter=reporter, check=check, catalog=catalog,
                              before_write=before_write)


def _render_locked(inputs: Inputs, validators: Validators, scanned: output.Scanning, *, reporter: Reporter,
                   check: bool, catalog: Catalog | None = None, before_write: BeforeWrite | None = None) -> int:
    paths, overlays, out, envs = inputs.paths, inputs.overlays, inputs.out, inputs.envs
    manifest = output.read_manifest(out)
    if check:
        def digests(known: list[str]) -> dict[str, str]:
            catalog_files, overlay_files = input_files(paths, overlays)
            return _digests(read_sources(catalog_files + overlay_files, Path.cwd()), inputs.code, known)

        if output.up_to_date(out, manifest, list(envs), digests, scanned):
            reporter.result(f"{out} is up to date", upToDate=True)
            return 0
    if inputs.jobs > 1:  # the walk on another core while this one renders
        scanned.ahead(len(manifest.files))
    # The processes that rendered a share of the units create its files too (no process forks
    # again to create them): they hold them until the output is written.
    read, bundle, holders, keep_units = _render(inputs, validators, reporter, INVALID_OUTPUT, catalog, hold=not check)
    try:
        return _write_rendered(inputs, scanned, reporter, check, manifest, read, bundle, holders, keep_units, catalog,
                               before_write)
    finally:
        output.release(holders)


def _write_rendered(inputs: Inputs, scanned: output.Scanning, reporter: Reporter, check: bool, manifest: output.Manifest,
                    read: Read, bundle: Bundle, holders: list[output.Holder], keep_units: Callable[[], None],
                    catalog: Catalog | None, before_write: BeforeWrite | None) -> int:
    """The output folder made what was rendered (or, with ``check``, compared with it)."""
    out, envs = inputs.out, inputs.envs
    rendered_envs = read.environments
    # Without --env, every environment is rendered: one that is gone from the catalog goes too.
    scope = rendered_envs if envs else sorted(set(rendered_envs) | output.environments(manifest))
    if check:
        keep_units()
        foreign = output.foreign_problems(out, manifest, scanned())
        if foreign:
            raise DbfleetError(foreign)
        text = output.diff(out, bundle.files, scope, str(out), scanned(), bundle.digests)
        if text:
            reporter.diff(text)
            reporter.result(f"{out} is out of date: run dbfleet render", upToDate=False)
            return STALE
        output.remember_inputs(out, _digests(read.sources, inputs.code, rendered_envs))
        reporter.result(f"{out} is up to date", upToDate=True)
        return 0
    if before_write is not None:
        assert catalog is not None, "what is checked before writing is a catalog given"
        before_write(catalog, bundle)
    changed, stamps = output.write(out, bundle.files, scope, bundle.digests, scanned, inputs.jobs, holders, keep_units)
    output.remember_inputs(out, _digests(read.sources, inputs.code, rendered_envs), stamps)
    reporter.result(
        f"rendered {len(bundle.objects)} objects for {', '.join(rendered_envs)} into {out}: "
        f"{len(changed)} file{'s' if len(changed) != 1 else ''} changed",
        objects=len(bundle.objects),
        environments=rendered_envs,
        changed=changed,
    )
    return 0


def _committed_objects(out: Path, envs: list[str], bundle: Bundle) -> tuple[int, list[RenderedObject], list[Problem]]:
    """Objects on disk that differ from what was just rendered (and validated): edited by hand,
    or stale.  Returns how many objects are on disk, those to validate, and unreadable files.
    Files read as they are (kustomizations, ApplicationSet parameters, the argocd-cm patch) are
    no objects to apply."""
    import yaml

    from renderer.rendering.render import RenderedObject
    from renderer.rendering.templating import parse_object

    count, objects, problems = 0, [], []
    rendered = bundle.files
    applied = {obj.path for obj in bundle.objects}
    for rel in output.disk_files(out):
        if (not output.in_scope(rel, envs) or rel.endswith(("kustomization.yaml", ".json"))
                or (rel in rendered and rel not in applied)):
            continue
        count += 1
        try:
            content = (out / rel).read_bytes()
            if content == rendered.get(rel):
                continue
            data = parse_object(content.decode("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(Problem(Mark(str(out / rel), 1, 1), f"cannot read: {exc}"))
            continue
        if isinstance(data, dict):
            objects.append(RenderedObject(str(out / rel), data))
    return count, objects, problems


def validate(inputs: Inputs, *, reporter: Reporter) -> int:
    validators = _validators(inputs)
    read, bundle, _, keep_units = _render(inputs, validators, reporter, INVALID)
    keep_units()
    committed, differing, unreadable = _committed_objects(inputs.out, read.environments, bundle)
    problems = unreadable + validators.validate(differing) + validators.missing_problems()
    if problems:
        raise DbfleetError(problems, INVALID)
    reporter.result(
        f"catalog valid; {len(bundle.objects)} rendered and {committed} committed objects valid",
        rendered=len(bundle.objects),
        committed=committed,
    )
    return 0



def init(*, reporter: Reporter, directory: Path) -> int:
    """Scaffold a repository that keeps a catalog, and render it once."""
    from renderer import scaffold

    created = scaffold.write(directory)
    reporter.result("created " + ", ".join(str(directory / path) for path in created), created=created)
    inputs = Inputs(paths=(directory / DEFAULT_CATALOG,), overlays=directory / DEFAULT_OVERLAYS,
                    out=directory / scaffold.OUTPUT, envs=(), templates=None, schema_locations=(),
                    chart_schema_locations=(), kube_version=DEFAULT_KUBE_VERSION, ignore_missing_schemas=False, jobs=1)
    code = render(inputs, reporter=reporter, check=False)
    where = "" if directory == Path(".") else f"cd {directory} && "
    reporter.raw("" if reporter.wants_data else
                 f"next: {where}git init && git add -A && pre-commit install; edit catalog/fleet.yaml, then dbfleet render\n")
    return code


def secrets(*, reporter: Reporter, paths: tuple[Path, ...], overlays: Path | None, envs: tuple[str, ...]) -> int:
    """Every Secret the rendered fleet reads and does not create, per environment."""
    from renderer.catalog.reading import check_environment
    from renderer.planning import secrets_contract
    from renderer.rendering.build import render_all
    from renderer.rendering.templating import Templates

    catalog = load_catalog(paths, overlays, envs)
    bundle = render_all(catalog, Templates())
    reporter.problems(bundle.warnings)
    text, data = [], []
    for env in catalog.environments:
        spec, _ = check_environment(catalog, env)
        purposes = secrets_contract.belongs_to(spec)
        objects = [(o.path, o.data) for o in bundle.objects if o.path.split("/", 1)[0] == env]
        for need in secrets_contract.needs(objects):
            need.purpose = purposes.get(need.name, [])
            data.append({"environment": env, **need.as_json()})
            text.append(f"{env}\t{need.namespace}/{need.name}\t{', '.join(sorted(need.keys))}\t"
                        f"{'; '.join(need.purpose) or '-'}\tread by {', '.join(sorted(need.readers))}")
    reporter.raw("" if reporter.wants_data else "".join(line + "\n" for line in text))
    reporter.result(f"{len(data)} secret{'s' if len(data) != 1 else ''} to provide", secrets=data)
    return 0


def versions(*, reporter: Reporter) -> int:
    """The versions each pinned operator release runs, what a release line resolves to, and the
    helper images dbfleet pins beside them."""
    from renderer.kube import versions as version_table

    rows, data = [], []
    for engine, table in version_table.ENGINES.items():
        rows.append(f"{engine}: {table.operator} ({table.source})")
        lines = []
        for line in table.lines:
            builds = [b for b in table.builds if table.line(b) == line]
            rows.append(f"  {line:<5} -> {table.image}:{builds[0].tag}"
                        + (f"   (also {', '.join(b.tag for b in builds[1:])})" if builds[1:] else ""))
            lines.append({"line": line, "resolvesTo": builds[0].tag, "builds": [b.tag for b in builds]})
        data.append({"engine": engine, "operator": table.operator, "source": table.source, "lines": lines})
    rows.append("helper images:")
    rows += [f"  {name:<20} {helper.image:<45} {helper.source}" for name, helper in version_table.HELPERS.items()]
    reporter.raw("" if reporter.wants_data else "\n".join(rows) + "\n")
    reporter.result(f"{len(data)} engines", engines=data,
                    helpers={name: {"image": h.image, "source": h.source} for name, h in version_table.HELPERS.items()})
    return 0


def connections(*, reporter: Reporter, paths: tuple[Path, ...], overlays: Path | None, envs: tuple[str, ...]) -> int:
    """Print how clients reach each proxied database through xdatabase-proxy."""
    from renderer.catalog.reading import check_environment
    from renderer.planning.connections import connections as proxy_connections

    catalog = load_catalog(paths, overlays, envs)
    found = {env: check_environment(catalog, env) for env in catalog.environments}
    raise_if([problem for _, problems in found.values() for problem in problems])
    lines = [line for env, (spec, _) in found.items() for line in proxy_connections(spec, env)]
    if not lines:
        raise DbfleetError([Problem(Mark("proxy.enabled", 0, 0), "no proxied database: enable proxy (the deployment) "
                                    "and proxy on the clusters and databases to reach through it")])
    reporter.raw("".join(f"{line.environment}\t{line.url}\n" for line in lines) if not reporter.wants_data else "")
    reporter.result(f"{len(lines)} connection{'s' if len(lines) != 1 else ''}", connections=[line.as_json() for line in lines])
    return 0


def _catalog_at(revision: Revision, paths: tuple[Path, ...], overlays: Path | None, fleet: str) -> Catalog:
    """The catalog as committed at ``revision`` (an empty one where there was none yet)."""
    from renderer.catalog.load import Catalog, load_sources
    from renderer.catalog.nodes import PMap

    def sources(where: list[Path]) -> list[Source]:
        found = []
        for path, content in sorted(revision.files(where).items()):
            if Path(path).suffix not in (".yaml", ".yml"):
                continue
            try:
                found.append(Source(f"{revision.ref}:{path}", content.decode("utf-8")))
            except UnicodeDecodeError:
                raise DbfleetError([Problem(Mark(f"{revision.ref}:{path}", 1, 1), "not UTF-8")]) from None
        return found

    catalog_sources = sources(list(paths) or [DEFAULT_CATALOG])
    if not catalog_sources:
        return Catalog(fleet, PMap(Mark(f"{revision.ref}:{DEFAULT_CATALOG}", 0, 0)))
    return load_sources(catalog_sources, sources([overlays or DEFAULT_OVERLAYS]))


def plan(*, reporter: Reporter, paths: tuple[Path, ...], overlays: Path | None, envs: tuple[str, ...], out: Path,
         base: str | None, form: str, allow_destructive: bool, templates: Path | None) -> int:
    """Classify what merging the working tree would do to the fleet, against a base revision."""
    from renderer.change import report
    from renderer.change.compare import Side, compare
    from renderer.change.findings import Plan
    from renderer.change.revision import Revision, default_base
    from renderer.rendering.build import render_all

    revision = Revision(base) if base else Revision(*default_base())
    catalog = load_catalog(paths, overlays)
    compiled = _templates(templates)
    jobs = os.cpu_count() or 1
    bundle = render_all(catalog, compiled, jobs=jobs)
    _keep_compiled(compiled)
    reporter.problems(bundle.warnings)
    before = _catalog_at(revision, paths, overlays, catalog.name)
    prefix = out.as_posix().rstrip("/") + "/"
    committed = {path[len(prefix):]: content for path, content in revision.files([out]).items() if path.startswith(prefix)}
    notes = []
    if not committed and before.spec:
        notes.append(f"{out}/ is not committed at {revision.ref}: compared with its catalog rendered by this dbfleet")
        committed = render_all(before, compiled, jobs=jobs).files
    known = sorted(set(catalog.environments) | (set(before.environments) if before.spec else set()))
    unknown = [env for env in envs if env not in known]
    if unknown:
        raise DbfleetError([Problem(Mark("--env", 0, 0), f"no environment {env!r}; known: {', '.join(known)}")
                            for env in unknown])
    result = Plan(revision.label, revision.commit, [env for env in known if not envs or env in envs], notes=notes)
    compare(Side(before, committed), Side(catalog, bundle.files), result.environments, str(out), result)
    code = 1 if result.blocking and not allow_destructive else 0
    if reporter.wants_data:
        reporter.result(report.verdict(result, allow_destructive), plan=report.data(result, allow_destructive))
    else:
        reporter.raw((report.markdown if form == "markdown" else report.text)(result, allow_destructive))
    return code
