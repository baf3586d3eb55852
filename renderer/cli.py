"""The command line: parse options, call plain functions, turn DbfleetError into a clean exit."""
from __future__ import annotations

import functools
import gc
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from renderer import commands
from renderer.errors import DbfleetError, Mark, Problem
from renderer.reporting import JsonReporter, Reporter, TextReporter
from renderer.validate import DEFAULT_KUBE_VERSION

F = TypeVar("F", bound=Callable[..., Any])


def _run(func: F) -> F:
    """Give the command a reporter, and turn every user-facing error into a message and exit code."""

    wants_output = "output" in inspect.signature(func).parameters  # a format beside text and JSON

    @functools.wraps(func)
    def wrapper(output: str, **kwargs: Any) -> None:
        reporter: Reporter = JsonReporter() if output == "json" else TextReporter()
        if wants_output:
            kwargs["output"] = output
        # A command is one batch that frees what it made at exit: the cyclic collector only slows
        # it (by a sixth at 1,000 clusters, more with more), and the memory stays the same.
        collecting = gc.isenabled()
        gc.disable()
        try:
            code = func(reporter=reporter, **kwargs)
        except DbfleetError as exc:
            reporter.problems(exc.problems)
            code = exc.exit_code
        except KeyboardInterrupt:
            code = 130
        except OSError as exc:  # the commands catch what they expect; no traceback for the rest either
            where = str(exc.filename) if exc.filename is not None else "dbfleet"
            reporter.problems([Problem(Mark(where, 0, 0), exc.strerror or str(exc))])
            code = 2
        finally:
            if collecting:
                gc.enable()
        if isinstance(reporter, JsonReporter):
            reporter.close(code)
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
OVERLAYS = click.option("--overlays", type=click.Path(path_type=Path),
                        help="Folder of environment overlays (<env>.yaml).  [default: overlays, if there is one]")
ENVS = click.option("--env", "envs", multiple=True, help="Only this environment (repeatable).")
OUTPUT = click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)


def _with(func: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def _catalog(func: F) -> F:
    """The options of commands that read the catalog and render nothing to disk."""
    return _with(func, [PATHS, OVERLAYS, ENVS, OUTPUT])


def _inputs(func: F) -> F:
    return _with(func, [
        PATHS,
        OVERLAYS,
        click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=Path("rendered"), show_default=True,
                     help="Output folder; dbfleet owns it entirely."),
        ENVS,
        click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Folder of templates that override the built-in ones."),
        click.option("--schema-location", "schema_locations", multiple=True, envvar="DBFLEET_SCHEMA_LOCATION",
                     help="More CRD schemas, searched before the embedded ones: a folder or a URL template "
                     "with {group}, {kind}, {version} (kubeconform layout). Repeatable."),
        click.option("--chart-schema-location", "chart_schema_locations", multiple=True,
                     envvar="DBFLEET_CHART_SCHEMA_LOCATION",
                     help="More Helm chart values schemas, searched before the embedded ones: a folder of "
                     "<chart>-<version>/values.schema.json, or a URL template with {chart}, {version}. Repeatable."),
        click.option("--kube-version", default=DEFAULT_KUBE_VERSION, show_default=True,
                     help="Kubernetes version whose schemas validate core kinds."),
        click.option("--ignore-missing-schemas", is_flag=True,
                     help="Skip objects whose schema cannot be found instead of failing."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
                     help="Processes that share rendering and validating a large catalog.  [default: cores]"),
        OUTPUT,
    ])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dbfleet")
def main() -> None:
    """Render a database catalog into validated GitOps manifests."""


@main.command()
@_inputs
@click.option("--check", is_flag=True, help="Write nothing; print a diff and exit 1 if the output is stale.")
@_run
def render(reporter: Reporter, check: bool, **inputs: Any) -> int:
    """Render the catalog (default catalog/) into the output folder.

    \b
    Exit codes:
      0  rendered (with --check: the output folder is up to date)
      1  with --check: the output folder is stale (a diff is printed)
      2  bad input: the catalog, an overlay or an option (nothing is written)
      3  invalid output: rendered objects fail their schemas (nothing is written)
    """
    return commands.render(commands.Inputs(**inputs), reporter=reporter, check=check)


@main.command()
@_inputs
@_run
def validate(reporter: Reporter, **inputs: Any) -> int:
    """Check the catalog, and the rendered and committed objects against every schema.

    \b
    Exit codes:
      0  valid
      1  invalid output: rendered or committed objects fail their schemas
      2  bad input: the catalog, an overlay or an option
    """
    return commands.validate(commands.Inputs(**inputs), reporter=reporter)


@main.command("plan")
@PATHS
@OVERLAYS
@click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=Path("rendered"), show_default=True,
              help="The output folder, as committed.")
@ENVS
@click.option("--base", help="The revision to compare with.  [default: the merge base with the default branch "
              "(origin/HEAD, main, master), else HEAD]")
@click.option("--output", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown: a pull-request comment.")
@click.option("--allow-destructive", is_flag=True, help="Exit 0 even when a destructive change has no reason in the "
              "catalog.")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of templates that override the built-in ones (as render was given).")
@_run
def plan_command(reporter: Reporter, output: str, **kwargs: Any) -> int:
    """Classify what merging this catalog does to the fleet: safe, disruptive or destructive.

    Compares the catalog and its rendered output with those committed at a base revision (read
    from Git's object store; nothing is checked out), entry by entry and object by object.

    \b
    Exit codes:
      0  nothing destructive (or each destructive change is allowed)
      1  a destructive change without an allowDestructive reason in the catalog
      2  bad input: the catalog, an overlay, an option, or the base revision
    """
    return commands.plan(reporter=reporter, form=output, **kwargs)


def _day2(func: F) -> F:
    """The options of the day-2 commands, which edit the catalog and render."""
    return _with(func, [
        click.argument("name"),
        click.option("--env", help="Edit this environment's overlay, not the catalog: the change reaches only it."),
        click.option("--catalog", "paths", multiple=True, type=click.Path(path_type=Path),
                     help="Catalog files or folders (repeatable).  [default: catalog]"),
        OVERLAYS,
        click.option("-o", "--out", "out", type=click.Path(path_type=Path), default=Path("rendered"), show_default=True,
                     help="Output folder to render into."),
        click.option("--allow-destructive", is_flag=True, help="Make the edit even when plan would call it destructive."),
        OUTPUT,
    ])


def _edit(name: str, make: Callable[[Any], Any], reporter: Reporter, new_entry: str | None = None,
          sections: tuple[str, ...] = ("clusters",), **kwargs: Any) -> int:
    day2 = _day2_ops()
    return day2.run(day2.Request(sections, name, make, new_entry), reporter=reporter, **kwargs)


def _day2_ops() -> Any:
    """The day-2 module, loaded by the commands that edit (not by every run of the CLI)."""
    from renderer.ops import day2

    return day2


DAY2_EXIT = (
    "\n\n\b\nExit codes:\n"
    "  0  edited and rendered\n"
    "  2  refused (destructive without --allow-destructive), or bad input: nothing is written\n"
    "  3  the edited catalog renders objects that fail their schemas (the edit is undone)"
)


@main.command(help="Set a cluster's replicas (and its pooler's): edits replicas, pooler.replicas." + DAY2_EXIT)
@_day2
@click.option("--replicas", type=click.IntRange(min=1), help="Instances of the cluster.")
@click.option("--pooler-replicas", type=click.IntRange(min=1), help="Instances of its connection pooler.")
@_run
def scale(replicas: int | None, pooler_replicas: int | None, **kwargs: Any) -> int:
    return _edit(make=_day2_ops().scale(replicas, pooler_replicas), **kwargs)


@main.command(help="Grow a cluster's volumes: edits storage.size (shrinking is destructive)." + DAY2_EXIT)
@_day2
@click.option("--storage", required=True, help="The new size of each instance's volume (such as 50Gi).")
@_run
def resize(storage: str, **kwargs: Any) -> int:
    return _edit(make=_day2_ops().resize(storage), **kwargs)


@main.command(help="Change a cluster's version: edits version; for a PostgreSQL major with native backups, "
                   "backup.serverName too. Downgrades and skipped majors are destructive." + DAY2_EXIT)
@_day2
@click.option("--version", "version", required=True, help="The version to run (dbfleet versions lists them).")
@click.option("--server-name", help="PostgreSQL: the backup archive's new serverName with a major upgrade "
              "[default: <name>-pg<major>].")
@_run
def upgrade(version: str, server_name: str | None, **kwargs: Any) -> int:
    return _edit(make=_day2_ops().upgrade(version, server_name), **kwargs)


@main.command(help="A rolling restart the operator performs: edits restartedAt (a pod annotation, and "
                   "CloudNativePG's kubectl.kubernetes.io/restartedAt on the Cluster)." + DAY2_EXIT)
@_day2
@click.option("--at", "at", help="The time to record (RFC 3339).  [default: now]")
@_run
def restart(at: str | None, **kwargs: Any) -> int:
    return _edit(make=_day2_ops().restart(at or _day2_ops().now()), **kwargs)


@main.command(help="An on-demand backup of a cluster or database: edits backup.onDemand. Its object (the operator's "
                  "backup, or a Job from the dump CronJob) is created once and never pruned." + DAY2_EXIT)
@_day2
@click.option("--id", "backup_id", help="The backup's id: its object is <name>-<id>.  [default: manual-<UTC time>]")
@_run
def backup(backup_id: str | None, **kwargs: Any) -> int:
    backup_id = backup_id or "manual-" + _day2_ops().now().lower().replace("-", "").replace(":", "").rstrip("z")
    return _edit(make=_day2_ops().backup(backup_id), sections=("clusters", "databases"), **kwargs)


@main.command(help="Add NAME, a new cluster or database bootstrapped from the backups of --from: never an "
                   "in-place overwrite. Edits the file that defines --from (or the --env overlay)." + DAY2_EXIT)
@_day2
@click.option("--from", "source", required=True, help="The cluster or database whose backups to restore.")
@click.option("--to-time", help="Recover to this moment (RFC 3339, such as 2026-11-20T10:00:00Z).")
@click.option("--backup", "backup_name", help="The backup (Percona engines) or dump (databases) to restore.")
@_run
def restore(name: str, source: str, to_time: str | None, backup_name: str | None, **kwargs: Any) -> int:
    return _edit(source, _day2_ops().restore(name, to_time, backup_name), new_entry=name, sections=("clusters", "databases"),
                 **kwargs)


@main.command()
@_catalog
@_run
def connections(**kwargs: Any) -> int:
    """Print the connection string of every database reached through xdatabase-proxy."""
    return commands.connections(**kwargs)


@main.command("secrets")
@_catalog
@_run
def secrets_command(**kwargs: Any) -> int:
    """Every Secret the fleet reads and does not create: name, namespace, keys, what for, readers."""
    return commands.secrets(**kwargs)


@main.command()
@OUTPUT
@_run
def versions(**kwargs: Any) -> int:
    """The database versions each pinned operator release runs, and what a release line means."""
    return commands.versions(**kwargs)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@OUTPUT
@_run
def init(**kwargs: Any) -> int:
    """Start a repository that keeps a catalog (default: here).

    Writes a commented catalog/fleet.yaml with one PostgreSQL cluster (and examples of every other
    engine and section), overlays/dev.yaml and overlays/prod.yaml, a .pre-commit-config.yaml with
    dbfleet's hooks and a CI workflow, then renders once.  It never overwrites a file.
    """
    return commands.init(**kwargs)


@main.command()
# catalog.schema.SCHEMAS' kinds (the schemas themselves load only for this command: not for every
# `render --check` of a pre-commit hook)
@click.option("--kind", type=click.Choice(["Catalog", "Overlay"]), default="Catalog", show_default=True,
              help="The document kind: catalog files, or environment overlays.")
@click.option("--format", "form", type=click.Choice(["json", "markdown"]), default="json", show_default=True,
              help="markdown: the table of every field (docs/catalog.md).")
def schema(kind: str, form: str) -> None:
    """Print the JSON Schema of catalog (or overlay) files, for editors.

    \b
    With VS Code's YAML extension, for instance, in .vscode/settings.json:
      "yaml.schemas": {"catalog.schema.json": "catalog/*.yaml",
                       "overlay.schema.json": "overlays/*.yaml"}
    """
    from renderer.catalog import schema_docs
    from renderer.catalog.schema import SCHEMAS

    click.echo(schema_docs.markdown() if form == "markdown" else json.dumps(SCHEMAS[kind], indent=2), nl=form == "json")


def run() -> None:
    """The ``dbfleet`` program (renderer/__main__.py turns the cyclic collector off first): it
    ends once its output is flushed, without first freeing what the command made object by object
    (the system takes the memory back at once: 0.05 s of a cold render of 1,000 clusters).
    Everything a command writes is closed when it returns."""
    try:
        main(prog_name=os.path.basename(sys.argv[0]))
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # a message: Python's own exit prints it and exits 1
            print(exc.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the reader is gone
            code = code or 1
    os._exit(code)
