"""The pure core: ``render(catalog, env) -> Bundle``.

No clock, no environment variables, no randomness, no network, no file system: the same catalog
gives the same bytes on every machine.  (Templates are read through the ``Templates`` object the
caller passes in; it caches them.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer import emit, rules
from renderer.catalog import Catalog, resolve, revalidate, with_schema_defaults
from renderer.errors import DbfleetError, Mark, Problem, raise_if
from renderer.plan import Unit, plan
from renderer.templating import TemplateError, Templates

MANAGED_BY = "dbfleet"
PROTECT = {
    "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
    "kustomize.toolkit.fluxcd.io/prune": "disabled",
    "helm.sh/resource-policy": "keep",
}
KUSTOMIZATION_HEAD = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


@dataclass
class RenderedObject:
    path: str  # inside the output folder: <env>/<namespace>/<entry>/<kind>-<name>.yaml
    data: dict[str, Any]


@dataclass
class Bundle:
    """Files of the output folder, by relative path; objects kept for validation."""

    files: dict[str, bytes] = field(default_factory=dict)
    objects: list[RenderedObject] = field(default_factory=list)

    def update(self, other: Bundle) -> None:
        self.files.update(other.files)
        self.objects.extend(other.objects)


def check_environment(catalog: Catalog, env: str) -> tuple[dict[str, Any], list[Problem]]:
    """The resolved, normalised spec of one environment and the problems the rules found."""
    spec = resolve(catalog, env)
    problems = revalidate(spec, catalog.overlays.get(env))
    if not problems:
        problems = list(rules.check(spec))
    return with_schema_defaults(spec), problems


def _by_environment(found: dict[str, list[Problem]]) -> list[Problem]:
    """Each problem once; those that only some environments have say which."""
    envs: dict[Problem, list[str]] = {}
    for env, problems in found.items():
        for problem in problems:
            envs.setdefault(problem, []).append(env)
    return [
        problem if len(where) == len(found) else problem._replace(message=f"{problem.message} (in {', '.join(where)})")
        for problem, where in envs.items()
    ]


def decorate(obj: dict[str, Any], unit: Unit, component: str, wave: int, holds_data: bool, fleet: str) -> dict[str, Any]:
    """Standard labels, the sync wave and, on objects that hold data, prune/delete protection."""
    metadata = obj.get("metadata") or {}
    labels = {
        "app.kubernetes.io/name": unit.app,
        "app.kubernetes.io/instance": unit.instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": fleet,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        **(metadata.get("labels") or {}),
    }
    annotations = {"argocd.argoproj.io/sync-wave": str(wave)}
    if holds_data:
        annotations.update(PROTECT)
    annotations.update(metadata.get("annotations") or {})
    ordered = {k: metadata[k] for k in ("name", "namespace") if k in metadata}
    ordered["labels"] = labels
    ordered["annotations"] = annotations
    ordered.update((k, v) for k, v in metadata.items() if k not in ordered)
    return {**obj, "metadata": ordered}


def _kustomization(resources: list[str]) -> bytes:
    lines = "".join(f"  - {emit.scalar(r)}\n" for r in resources)
    return (KUSTOMIZATION_HEAD + "resources:\n" + lines).encode()


def render(catalog: Catalog, env: str, templates: Templates) -> Bundle:
    """Render one environment.  Raises DbfleetError with every problem of the input."""
    spec, problems = check_environment(catalog, env)
    raise_if(problems)
    return _render_spec(spec, catalog.name, env, templates)


def _render_spec(spec: dict[str, Any], fleet: str, env: str, templates: Templates) -> Bundle:
    bundle = Bundle()
    folders: dict[tuple[str, ...], list[str]] = {}
    for unit in plan(spec, fleet, env):
        names = folders.setdefault(unit.folder, [])
        for component in unit.components:
            try:
                obj = templates.render(component.template, component.context)
            except TemplateError as exc:
                raise DbfleetError([Problem(Mark(component.template, 0, 0), str(exc))]) from None
            obj = decorate(obj, unit, component.component, component.wave, component.holds_data, fleet)
            filename = f"{str(obj['kind']).lower()}-{obj['metadata'].get('name')}.yaml"
            if filename in names:
                where = "/".join(unit.folder)
                raise DbfleetError([Problem(Mark(component.template, 0, 0), f"two objects would be written to {where}/{filename}")])
            names.append(filename)
            path = "/".join((env, *unit.folder, filename))
            bundle.files[path] = emit.dump(obj).encode()
            bundle.objects.append(RenderedObject(path, obj))
    # Kustomizations: each folder lists its files, then its sub-folders; the root leaves the
    # GitOps objects out (they point at the root, and are applied once to bootstrap).
    children: dict[tuple[str, ...], set[str]] = {}
    for folder in folders:
        for depth in range(len(folder)):
            children.setdefault(folder[:depth], set()).add(folder[depth])
    for folder in sorted(set(folders) | set(children)):
        subfolders = sorted(children.get(folder, set()) - ({"gitops"} if folder == () else set()))
        resources = folders.get(folder, []) + subfolders
        bundle.files["/".join((env, *folder, "kustomization.yaml"))] = _kustomization(resources)
    return bundle


def render_all(catalog: Catalog, templates: Templates) -> Bundle:
    """Every environment; problems of all environments are reported together."""
    checked = {env: check_environment(catalog, env) for env in catalog.environments}
    raise_if(_by_environment({env: found for env, (_, found) in checked.items()}))
    bundle = Bundle()
    for env, (spec, _) in checked.items():
        bundle.update(_render_spec(spec, catalog.name, env, templates))
    return bundle
