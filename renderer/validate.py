"""Rendered objects against the real schemas: CRDs from a schema location, core kinds from
kubernetes-validate (strict).  One compiled validator per schema (``Compiled``: jsonschema-rs
validates 8,000 objects in 0.03 s), reused for every object."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from renderer.errors import DbfleetError, Mark, Problem, format_path
from renderer.schemas import (CHART_LAYOUT, CRD_LAYOUT, EMBEDDED_CHARTS, EMBEDDED_CRDS, FETCH_TIMEOUT, SchemaNotFound,
                              SchemaSearch, SchemaUnavailable, location_problems)
from renderer.schemas.compiled import Compiled

if TYPE_CHECKING:  # the validators' libraries load when the first object is validated, not with the CLI
    import jsonschema
    from referencing import Registry

    from renderer.kube import kubenames
    from renderer.rendering.render import RenderedObject
    from renderer.schemas.cel import CelRules, Outcomes

DEFAULT_KUBE_VERSION = "1.33"
Missing = tuple[str, str, bool]  # the first object of a kind without a schema, why, and whether it may be skipped
# Kinds without a schema; outcomes of CEL rules by (rule, node)
Learned = tuple[dict[tuple[str, str], Missing], dict[tuple[str, str], "bool | str"]]


def is_core(api_version: str) -> bool:
    """Kinds whose schemas ship with Kubernetes itself (and so with kubernetes-validate)."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


class Validators:
    def __init__(
        self,
        schema_locations: Iterable[str] = (),
        kube_version: str = DEFAULT_KUBE_VERSION,
        ignore_missing: bool = False,
        chart_schema_locations: Iterable[str] = (),
        fetch_timeout: float = FETCH_TIMEOUT,
    ) -> None:
        """The user's schema locations are searched before the embedded schemas; a folder that
        does not exist is bad input (DbfleetError)."""
        locations, chart_locations = list(schema_locations), list(chart_schema_locations)
        bad_locations = [Problem(Mark(option, 0, 0), reason)
                         for option, given, layout in (("--schema-location", locations, CRD_LAYOUT),
                                                       ("--chart-schema-location", chart_locations, CHART_LAYOUT))
                         for reason in location_problems(given, layout)]
        if bad_locations:
            raise DbfleetError(bad_locations)
        self.crds = SchemaSearch(locations, CRD_LAYOUT, EMBEDDED_CRDS, "--schema-location", fetch_timeout)
        self.charts = SchemaSearch(chart_locations, CHART_LAYOUT, EMBEDDED_CHARTS, "--chart-schema-location", fetch_timeout)
        self.kube_version = kube_version.lstrip("v")
        self.ignore_missing = ignore_missing
        self._cache: dict[tuple[str, str], Compiled | SchemaNotFound | SchemaUnavailable] = {}
        self._cel: dict[tuple[str, str], CelRules] = {}  # a CRD's CEL rules, beside its validator
        self._outcomes: Outcomes | None = None
        # (apiVersion, kind) -> (first object without a schema, why, skippable): reported once per kind
        self.missing: dict[tuple[str, str], Missing] = {}
        self._kube_registry: Registry | None = None
        self._kube_definitions: Definitions | None = None
        self._kube_dir: Path | None = None

    # -- finding schemas ------------------------------------------------------------------
    def _kube_schema_dir(self) -> Path:
        """kubernetes-validate's strict schemas of the newest Kubernetes not newer than ours, read
        from its package folder: importing the package imports jsonschema (0.05 s)."""
        if self._kube_dir is None:
            spec = importlib.util.find_spec("kubernetes_validate")
            if spec is None or not spec.submodule_search_locations:
                raise SchemaNotFound("kubernetes-validate is not installed: core kinds cannot be validated")
            top = Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema"
            wanted = _version_key(_major_minor(self.kube_version))
            versions = sorted((_version_key(found.group(1)), entry.name) for entry in top.iterdir()
                              if (found := _KUBE_DIR.fullmatch(entry.name)))
            usable = [name for key, name in versions if key <= wanted]
            if not usable:
                raise SchemaNotFound(f"kubernetes-validate has no schemas for Kubernetes {self.kube_version}")
            self._kube_dir = top / usable[-1]
        return self._kube_dir

    def _kube(self, api_version: str, kind: str) -> Compiled:
        directory = self._kube_schema_dir()
        flat = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        try:
            schema = json.loads((directory / f"{kind.lower()}-{flat}.json").read_bytes())
        except FileNotFoundError:
            raise SchemaNotFound(f"no Kubernetes {self.kube_version} schema for {kind} {api_version}") from None
        if self._kube_definitions is None:
            self._kube_definitions = Definitions((directory / "_definitions.json").read_text(encoding="utf-8"))
        definitions = self._kube_definitions

        def explaining() -> jsonschema.protocols.Validator:
            import jsonschema
            from referencing import Registry, Resource

            if self._kube_registry is None:
                self._kube_registry = Resource.from_contents(definitions.whole()) @ Registry()
            return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ self._kube_registry)

        # Each schema refers to _definitions.json#/$defs/...: the one other document, given to the
        # fast validator with the definitions the schema reaches only (it converts what it is
        # given: 3.5 ms a kind for all 700).
        reached = _reached(schema, definitions)
        return Compiled(schema, explaining, lambda uri: reached)

    def _crd(self, api_version: str, kind: str) -> Compiled:
        group, _, version = api_version.rpartition("/")
        fields = {"group": group, "kind": kind.lower(), "version": version}
        schema = self.crds.find(fields, f"no schema for {kind} {api_version}")
        from renderer.schemas.cel import CelRules

        self._cel[(api_version, kind)] = CelRules(schema, self.outcomes)
        return _compiled(schema)

    def _chart(self, chart: str, version: str) -> Compiled:
        """A Helm chart's values.schema.json."""
        return _compiled(self.charts.find({"chart": chart, "version": version},
                                          f"no values schema for the {chart} chart {version}"))

    def validator(self, api_version: str, kind: str) -> Compiled | SchemaNotFound | SchemaUnavailable:
        """The compiled validator of a kind (or of a chart's values: ``CHART_VALUES + chart``, with the
        chart's version as the kind), or why there is none; looked up once."""
        key = (api_version, kind)
        if key not in self._cache:
            try:
                if api_version.startswith(CHART_VALUES):
                    self._cache[key] = self._chart(api_version.removeprefix(CHART_VALUES), kind)
                elif is_core(api_version):
                    self._cache[key] = self._kube(api_version, kind)
                else:
                    self._cache[key] = self._crd(api_version, kind)
            except (SchemaNotFound, SchemaUnavailable) as exc:
                self._cache[key] = exc
        return self._cache[key]

    def prepare(self, kinds: Iterable[tuple[str, str]]) -> None:
        """Compile the validators of these (apiVersion, kind) now: before forked processes share
        them, rather than once in each."""
        for api_version, kind in kinds:
            self.validator(api_version, kind)

    # -- validating -----------------------------------------------------------------------
    def problems(self, rendered: RenderedObject, may_hold_secret: bool = True) -> list[Problem]:
        """``may_hold_secret``: False where the object's YAML was found to hold no secret
        (rules.secrets.may_hold_secrets), so that its strings are not walked."""
        obj = rendered.data
        where = Mark(rendered.path, 0, 0)
        kind, api_version = obj.get("kind", "?"), obj.get("apiVersion", "?")
        name = (obj.get("metadata") or {}).get("name", "?")
        names = _name_problems(obj) if rendered.name_problems is None else rendered.name_problems
        found = [Problem(where, f"{kind}/{name}: {message}") for message in (
            *(f"{p.field}: {p.value!r} {p.reason}" for p in names), *_secret_problems(obj, may_hold_secret))]
        checks = [(api_version, kind, obj, "")]
        chart = chart_values(obj)
        if chart is not None:  # a HelmRelease's or an Application's values, against the chart's schema
            chart_name, version, values, at = chart
            checks.append((CHART_VALUES + chart_name, version, values, at))
        for key_api, key_kind, document, prefix in checks:
            validator = self.validator(key_api, key_kind)
            if isinstance(validator, (SchemaNotFound, SchemaUnavailable)):
                skippable = isinstance(validator, SchemaNotFound)
                self.record_missing({(key_api, key_kind): (rendered.path, str(validator), skippable)})
                continue
            errors = list(validator.iter_errors(document))
            for error in errors:
                path = format_path([*prefix.split("."), *error.absolute_path] if prefix else list(error.absolute_path))
                found.append(Problem(where, f"{kind}/{name}: {path or '(root)'}: {error.message}"))
            rules = self._cel.get((key_api, key_kind))
            if rules is not None and not errors:  # CEL rules read a well-formed object
                found += [Problem(where, f"{kind}/{name}: {format_path(at) or '(root)'}: {message} [CEL rule]")
                          for at, message in rules.violations(document)]
        return found

    def validate(self, objects: Iterable[RenderedObject]) -> list[Problem]:
        """Problems of each object; kinds without a schema are kept for ``missing_problems``."""
        from renderer.rules.secrets import may_hold_secrets

        objects = list(objects)
        looked = may_hold_secrets([rendered.content for rendered in objects])  # (an object without its YAML: walked)
        return [problem for rendered, may_hold in zip(objects, looked)
                for problem in self.problems(rendered, may_hold or not rendered.content)]

    @property
    def outcomes(self) -> Outcomes:
        """Outcomes of CEL rules on nodes: what a unit cache knows goes in before validating."""
        if self._outcomes is None:
            from renderer.schemas.cel import Outcomes

            self._outcomes = Outcomes()
        return self._outcomes

    def record_missing(self, missing: dict[tuple[str, str], Missing]) -> None:
        for key, found in missing.items():
            self.missing[key] = min(found, self.missing.get(key, found))

    def learned(self) -> Learned:
        """What validating taught this validator (a forked child's, handed back to the parent)."""
        return self.missing, self.outcomes.used

    def learn(self, learned: Learned) -> None:
        missing, outcomes = learned
        self.record_missing(missing)
        self.outcomes.used.update(outcomes)

    def missing_problems(self) -> list[Problem]:
        """One problem per kind whose schema was not found (unless told to skip those kinds) or
        could not be read or fetched (never skipped: the schema may well be there)."""
        return [
            Problem(Mark(path, 0, 0), f"{reason}; objects of this kind are not validated"
                                      + (" (or give --ignore-missing-schemas)" if skippable else ""))
            for path, reason, skippable in sorted(self.missing.values())
            if not (skippable and self.ignore_missing)
        ]


def _name_problems(obj: dict[str, Any]) -> list[kubenames.Problem]:
    """Names the cluster would refuse, of an object read from a file (a rendered object's are
    found as it is rendered): the names' rules load only then, not with the CLI."""
    from renderer.kube import kubenames

    return kubenames.problems(obj)


CHART_VALUES = "helm-chart-values/"


def chart_values(obj: dict[str, Any]) -> tuple[str, str, Any, str] | None:
    """(chart, version, values, where) of a Flux HelmRelease or an Argo CD Application of a chart."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "HelmRelease":
        chart = ((spec.get("chart") or {}).get("spec")) or {}
        if chart.get("chart") and chart.get("version"):
            return chart["chart"], chart["version"], spec.get("values") or {}, "spec.values"
    if obj.get("kind") == "Application":
        source = spec.get("source") or {}
        if source.get("chart") and source.get("targetRevision"):
            values = (source.get("helm") or {}).get("valuesObject") or {}
            return source["chart"], source["targetRevision"], values, "spec.source.helm.valuesObject"
    return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


_KUBE_DIR = re.compile(r"v([0-9]+\.[0-9]+)\.[0-9]+-local-strict")


def _major_minor(version: str) -> str:
    found = re.match(r"[0-9]+\.[0-9]+", version)
    if found is None:
        raise SchemaNotFound(f"{version!r} is no Kubernetes version (such as 1.33)")
    return found.group()


_DEFS = "#/$defs/"


class Definitions:
    """kubernetes-validate's _definitions.json (1.8 MB: 6 to 9 ms to decode whole), each
    definition decoded on its own when a schema reaches it, from where an index of the file says
    it starts (1.5 ms); whole only to explain an object that fails, or when the file is not laid
    out as kubernetes-validate writes it ("$defs" a key of the top level's, indented by two
    spaces, each definition on a line of its own, indented by four)."""

    _KEY = re.compile(r'\n    "([^"\n]+)": \{')  # a definition (no raw line break is inside a JSON string)

    def __init__(self, text: str) -> None:
        self.text = text
        self._whole: dict[str, Any] | None = None
        self._top: dict[str, Any] = {}  # the top level but its "$defs"
        self._at: dict[str, int] | None = None
        self._decoded: dict[str, Any] = {}

    def whole(self) -> dict[str, Any]:
        if self._whole is None:
            self._whole = json.loads(self.text)
        return self._whole

    def one(self, name: str) -> Any:
        """The definition, or None when it cannot be found on its own."""
        if self._at is None:
            self._at = self._index()
        if name not in self._decoded and name in self._at:
            try:
                self._decoded[name] = _DECODER.raw_decode(self.text, self._at[name])[0]
            except ValueError:  # not JSON there: read whole, the file says what is wrong with it
                return None
        return self._decoded.get(name)

    def top(self, definitions: dict[str, Any]) -> dict[str, Any]:
        """The document with these ``definitions`` as its "$defs"."""
        return {**self._top, "$defs": definitions}

    def _index(self) -> dict[str, int]:
        start = self.text.find('\n  "$defs": {')
        end = self.text.find("\n  }", start)  # where "$defs" closes: nothing inside is indented by two only
        if start < 0 or end < 0:
            return {}
        try:
            top = json.loads(self.text[:start + len('\n  "$defs": ')] + "{}" + self.text[end + len("\n  }"):])
        except ValueError:
            return {}
        if not isinstance(top, dict):
            return {}
        self._top = top
        return {found.group(1): found.end() - 1 for found in self._KEY.finditer(self.text, start, end)}


_DECODER = json.JSONDecoder()


def _reached(schema: Any, definitions: Definitions) -> dict[str, Any]:
    """kubernetes-validate's _definitions.json with the definitions ``schema`` reaches, through
    theirs; whole where a reference is not to a plainly named definition."""
    reached: dict[str, Any] = {}
    todo: list[Any] = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.partition(_DEFS)[2]
                if name not in reached:
                    found = definitions.one(name) if _DEFS in ref and not any(c in name for c in "~/%") else None
                    if found is None:
                        return definitions.whole()
                    reached[name] = found
                    todo.append(found)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return definitions.top({name: reached[name] for name in sorted(reached)})


def _compiled(schema: dict[str, Any]) -> Compiled:
    return Compiled(schema)


def _secret_problems(obj: dict[str, Any], may_hold_secret: bool = True) -> Iterator[str]:
    """No secret reaches Git, whatever template made the object: no Secret with values, no password
    in a URL or under a password's key (External Secrets' templates, filled in the cluster, aside).
    ``may_hold_secret``: False when the object's YAML holds none (rules.secrets.may_hold_secret)."""
    if obj.get("kind") in ("Secret",) and is_core(str(obj.get("apiVersion", ""))) and (obj.get("data") or obj.get("stringData")):
        yield "a Secret with its values would put them in Git: render an ExternalSecret (or a SealedSecret) instead"
    if not may_hold_secret:
        return
    from renderer.rules.secrets import secret_in, secret_key

    skip = ("spec", "target", "template") if obj.get("kind") == "ExternalSecret" else None
    for path, key, value in _strings(obj, ()):
        if skip and path[:3] == skip:
            continue
        if isinstance(key, str) and value and secret_key(key):
            yield f"{format_path(list(path))}: a {key!r} value in Git is a plaintext secret"
        else:
            what = secret_in(value)
            if what == "url":
                yield f"{format_path(list(path))}: the URL carries a password"
            elif what == "value":
                yield f"{format_path(list(path))}: the value carries a secret"


def _strings(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any, str]]:
    """(path, key, value) of every string in an object."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                yield (*path, key), key, value
            else:
                yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                yield (*path, index), None, value
            else:
                yield from _strings(value, (*path, index))
