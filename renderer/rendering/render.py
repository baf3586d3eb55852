"""The pure core: ``render(catalog, env) -> Bundle``.

No clock, no environment variables, no randomness, no network, no file system: the same catalog
gives the same bytes on every machine.  Templates come compiled in the ``Templates`` object the
caller passes; each unit (folder) renders on its own, so units can be shared among processes.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, Iterable, Iterator, Protocol

from renderer import emit
from renderer.catalog.load import Catalog, resolve
from renderer.catalog.reading import Places, check_environment, entry_places
from renderer.errors import DbfleetError, Mark, Problem, raise_if
from renderer.kube import kubenames
from renderer.planning.components import Component
from renderer.planning.plan import Unit, plan
from renderer.planning.secrets_contract import created
from renderer.rendering.templating import Decoration, TemplateError, Templates

MANAGED_BY = "dbfleet"
PROTECT = {
    "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
    "kustomize.toolkit.fluxcd.io/prune": "disabled",
    "helm.sh/resource-policy": "keep",
}
KUSTOMIZATION_HEAD = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


@dataclass(slots=True)  # 80,000 of them at 10,000 clusters
class RenderedObject:
    path: str  # inside the output folder: <env>/<namespace>/<entry>/<kind>-<name>.yaml
    data: dict[str, Any]
    content: bytes = b""
    # (API group, kind, namespace, name) of the object, and of the Secrets it makes (or makes an
    # operator make): each is one object in the cluster, so one entry may own it.
    identities: tuple[tuple[str, str, str, str], ...] = ()
    # Names the cluster (or the object's operator) would refuse, reported at the catalog entry;
    # None: not looked at (an object read from a file).
    name_problems: tuple[kubenames.Problem, ...] | None = None
    # An object to apply, listed in its folder's kustomization; not a file read as it is.
    applied: bool = True
    digest: str = ""  # the sha256 of ``content``, where it was made (the manifest lists it)

    def sent(self) -> Sent:
        """What a forked child sends of it (its data aside): plain values pickle without a call
        for each object (4,500 objects: 12 -> 8 ms to pickle, 4.9 -> 2.9 ms to unpickle)."""
        return self.path, self.content, self.identities, self.name_problems, self.applied, self.digest

    @classmethod
    def received(cls, sent: Sent) -> RenderedObject:
        path, content, identities, name_problems, applied, digest = sent
        return cls(path, {}, content, identities, name_problems, applied, digest)


Sent = tuple[str, bytes, tuple[tuple[str, str, str, str], ...], "tuple[kubenames.Problem, ...] | None", bool, str]


@dataclass
class Bundle:
    """Files of the output folder, by relative path; the objects, and what validating them found."""

    files: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # the sha256 of files whose objects know it
    objects: list[RenderedObject] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class Validator(Protocol):
    def validate(self, objects: Iterable[RenderedObject]) -> list[Problem]: ...

    def learned(self) -> Any: ...

    def learn(self, learned: Any) -> None: ...

    def missing_problems(self) -> list[Problem]: ...

    def prepare(self, kinds: Iterable[tuple[str, str]]) -> None: ...


def decorate(obj: dict[str, Any], app: str, instance: str, component: str, wave: str, holds_data: bool,
             fleet: str) -> dict[str, Any]:
    """Standard labels, the sync wave and, on objects that hold data, prune/delete protection."""
    metadata = obj.get("metadata") or {}
    labels = {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": fleet,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        **(metadata.get("labels") or {}),
    }
    annotations = {"argocd.argoproj.io/sync-wave": wave}
    if holds_data:
        annotations.update(PROTECT)
    annotations.update(metadata.get("annotations") or {})
    ordered = {k: metadata[k] for k in ("name", "namespace") if k in metadata}
    ordered["labels"] = labels
    ordered["annotations"] = annotations
    ordered.update((k, v) for k, v in metadata.items() if k not in ordered)
    return {**obj, "metadata": ordered}


# A file name emit writes as it is (a plain scalar that no YAML reader takes for another type):
# every object's ``<kind>-<name>.yaml``, without a call each (9,000 at 1,000 clusters).
_PLAIN_FILE = re.compile(r"[a-z][a-z0-9.-]*\.yaml\Z")


# How render_unit decorates an object, by whether it holds data (the key), with the app, instance,
# component, wave and fleet (the extra values).
_DECORATE = {holds: (lambda document, extra, holds=holds: decorate(document, extra[0], extra[1], extra[2], extra[3],
                                                                  holds, extra[4]))
             for holds in (False, True)}


def _kustomization(resources: list[str]) -> bytes:
    plain = _PLAIN_FILE.match
    lines = "".join(f"  - {r if plain(r) else emit.scalar(r)}\n" for r in resources)
    return (KUSTOMIZATION_HEAD + "resources:\n" + lines).encode()


def rendered_components(unit: Unit, fleet: str, templates: Templates) -> Iterator[tuple[Component, Any, str | None]]:
    """Each component of a unit, rendered: its object, and its YAML where its template's skeleton
    plan wrote it (None: emit writes the object)."""
    for component in unit.components:
        decoration = None if component.file else Decoration(
            component.holds_data, _DECORATE[component.holds_data],
            (unit.app, unit.instance, component.component, str(component.wave), fleet))
        try:
            obj, text = templates.rendered(component.template, component.context, component.file is None, decoration)
        except TemplateError as exc:
            raise DbfleetError([Problem(Mark(component.template, 0, 0), str(exc))]) from None
        yield component, obj, text


def render_unit(unit: Unit, fleet: str, env: str, templates: Templates) -> list[RenderedObject]:
    """The objects of one folder, with their bytes."""
    objects = []
    for component, obj, text in rendered_components(unit, fleet, templates):
        if component.file:  # read by kustomize or Argo CD, not applied: written as it is
            path = "/".join((env, *unit.folder, component.file))
            content = json.dumps(obj, indent=2, ensure_ascii=False) + "\n" if component.file.endswith(".json") else emit.dump(obj)
            data = content.encode()
            objects.append(RenderedObject(path, obj, data, applied=False, digest=sha256(data).hexdigest()))
            continue
        name, found = obj["metadata"]["name"], tuple(kubenames.problems(obj))
        if found and any(p.field == "metadata.name" for p in found):  # refused below; never a path made of it
            name = "invalid-" + sha256(str(name).encode()).hexdigest()[:16]
        path = "/".join((env, *unit.folder, kubenames.file_name(obj["kind"], name)))
        # Written from the skeleton's plan where it has one: its constant lines once, then the values.
        data = (text if text is not None else emit.dump(obj)).encode()
        objects.append(RenderedObject(path, obj, data, _identities(obj), found, digest=sha256(data).hexdigest()))
    return objects


def assemble(env: str, units: list[Unit], rendered: list[list[RenderedObject]], bundle: Bundle,
             places: Places | None = None) -> None:
    """Files of one environment, and a kustomization in each folder listing the objects of its
    unit, and nothing else: every folder is a root of its own that a GitOps object points at,
    so no kustomize build grows with the fleet (kustomize's cost grows with the square of the
    objects in one root)."""
    folders: dict[tuple[str, ...], list[str]] = {}
    owners: dict[tuple[str, ...], tuple[Unit, RenderedObject]] = {}
    clashes: list[Problem] = []  # and names the cluster would refuse
    for unit, objects in zip(units, rendered):
        for obj in objects:  # 9,000 at 1,000 clusters: what only a problem needs is made for one
            if obj.name_problems:
                clashes += [_name_problem(problem, unit, obj, places or {}) for problem in obj.name_problems]
            if obj.path in bundle.files:
                clashes.append(Problem(Mark(obj.path, 0, 0), "two objects would be written to this file"))
            clashed: set[int] = set()  # one problem per pair of objects (an ExternalSecret and its Secret are one)
            for identity in obj.identities:
                first = owners.setdefault(identity, (unit, obj))
                if first[1] is not obj and id(first[1]) not in clashed:
                    clashed.add(id(first[1]))
                    clashes.append(_clash(identity, first, (unit, obj), places or {}))
            bundle.files[obj.path] = obj.content
            if obj.digest:
                bundle.digests[obj.path] = obj.digest
        applied = [obj for obj in objects if obj.applied]
        bundle.objects.extend(applied)
        if applied:
            folders.setdefault(unit.folder, []).extend(obj.path.rsplit("/", 1)[1] for obj in applied)
    if clashes:
        raise DbfleetError(clashes)
    for folder, resources in sorted(folders.items()):
        bundle.files["/".join((env, *folder, "kustomization.yaml"))] = _kustomization(resources)


def _place(unit: Unit, obj: RenderedObject, places: Places) -> tuple[str, Mark]:
    return places.get(unit.source, (unit.instance, Mark(obj.path, 0, 0)))


def _name_problem(problem: kubenames.Problem, unit: Unit, obj: RenderedObject, places: Places) -> Problem:
    where, mark = _place(unit, obj, places)
    shorten = f": {problem.excess} character{'s' if problem.excess > 1 else ''} too many" if problem.excess else ""
    what = "its name" if problem.field == "metadata.name" else f"{problem.field} {problem.value!r}"
    return Problem(mark, f"{where} makes {_named(obj)}: {what} {problem.reason}{shorten}")


def _identities(obj: dict[str, Any]) -> tuple[tuple[str, str, str, str], ...]:
    metadata = obj.get("metadata") or {}
    namespace, kind = str(metadata.get("namespace", "")), str(obj.get("kind"))
    # Groups, kinds and namespaces repeat in every unit: one string each (90,000 objects at 10,000 clusters).
    namespace, kind = sys.intern(namespace), sys.intern(kind)
    own = (sys.intern(str(obj.get("apiVersion", "")).rpartition("/")[0]), kind, namespace, str(metadata.get("name")))
    names = created(obj)
    if not names:  # most kinds make no Secret
        return (own,)
    return (own, *(("", "Secret", namespace, name) for name in names if (kind, name) != ("Secret", own[3])))


def _clash(identity: tuple[str, ...], first: tuple[Unit, RenderedObject], second: tuple[Unit, RenderedObject],
           places: Places) -> Problem:
    """Two objects would be one in the cluster (the same kind, namespace and name): say whose."""
    _, kind, namespace, name = identity
    (first_unit, first_obj), (unit, obj) = first, second
    _, where = _place(unit, obj, places)
    if first_unit is unit:
        return Problem(where, f"{unit.instance} would make {kind} {namespace}/{name} twice ({_named(first_obj)} and "
                              f"{_named(obj)}): rename what names it (a database owner the operator keeps for itself?)")
    other = (f"{first_unit.instance} ({places[first_unit.source][1]})" if first_unit.source in places
             else first_unit.instance)
    return Problem(where, f"{unit.instance} and {other} would both make {kind} {namespace}/{name}: rename one of them")


def _named(obj: RenderedObject) -> str:
    """``Service databases/orders-proxy`` (from its identity: a forked child's objects come without their data)."""
    if not obj.identities:
        return obj.path
    _, kind, namespace, name = obj.identities[0]
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def render(catalog: Catalog, env: str, templates: Templates) -> Bundle:
    """Render one environment.  Raises DbfleetError with every problem of the input."""
    spec, problems = check_environment(catalog, env)
    raise_if(problems)
    units = plan(spec, catalog.name, env, templates.kind_of)
    bundle = Bundle()
    assemble(env, units, [render_unit(u, catalog.name, env, templates) for u in units], bundle,
             entry_places(resolve(catalog, env)))
    return bundle
