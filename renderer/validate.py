"""Rendered objects against the real schemas: CRDs from a schema location, core kinds from
kubernetes-validate (strict).  One compiled validator per schema, reused for every object."""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable

import jsonschema
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from renderer.errors import Mark, Problem
from renderer.positioned import format_path
from renderer.render import RenderedObject

DEFAULT_KUBE_VERSION = "1.33"
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")


def is_core(api_version: str) -> bool:
    """Kinds whose schemas ship with Kubernetes itself (and so with kubernetes-validate)."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


class SchemaNotFound(Exception):
    pass


class Validators:
    def __init__(
        self,
        schema_locations: Iterable[str] = (),
        kube_version: str = DEFAULT_KUBE_VERSION,
        ignore_missing: bool = False,
    ) -> None:
        self.locations = list(schema_locations)
        self.kube_version = kube_version.lstrip("v")
        self.ignore_missing = ignore_missing
        self._cache: dict[tuple[str, str], jsonschema.protocols.Validator | SchemaNotFound] = {}
        # (apiVersion, kind) -> (first object without a schema, why): reported once per kind
        self.missing: dict[tuple[str, str], tuple[str, str]] = {}
        self._kube_registry: Registry | None = None
        self._kube_dir: str | None = None

    # -- finding schemas ------------------------------------------------------------------
    def _kube_schema_dir(self) -> str:
        if self._kube_dir is None:
            wanted = kv.major_minor(self.kube_version)
            versions = [v for v in kv.all_versions() if _version_key(kv.major_minor(v)) <= _version_key(wanted)]
            if not versions:
                raise SchemaNotFound(f"kubernetes-validate has no schemas for Kubernetes {self.kube_version}")
            self._kube_dir = f"kubernetes-json-schema/v{versions[-1]}-local-strict"
        return self._kube_dir

    def _kube(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        directory = self._kube_schema_dir()
        flat = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        try:
            schema = kv.schema_contents(f"{directory}/{kind.lower()}-{flat}.json", self.kube_version)
        except FileNotFoundError:
            raise SchemaNotFound(f"no Kubernetes {self.kube_version} schema for {kind} {api_version}") from None
        if self._kube_registry is None:
            definitions = kv.schema_contents(f"{directory}/_definitions.json", self.kube_version)
            self._kube_registry = Resource.from_contents(definitions) @ Registry()
        registry = Resource.from_contents(schema) @ self._kube_registry
        return jsonschema.Draft202012Validator(schema, registry=registry)

    def _crd(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        group, _, version = api_version.rpartition("/")
        tried = []
        for location in self.locations:
            if "{" in location:
                where = location.format(group=group, kind=kind.lower(), version=version)
            else:
                where = str(Path(location) / group / f"{kind.lower()}_{version}.json")
            tried.append(where)
            schema = _read_schema(where)
            if schema is not None:
                return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
        hint = f" (looked in {', '.join(tried)})" if tried else ": give --schema-location"
        raise SchemaNotFound(f"no schema for {kind} {api_version}{hint}")

    def validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | SchemaNotFound:
        """The compiled validator of a kind, or why there is none; looked up once per kind."""
        key = (api_version, kind)
        if key not in self._cache:
            try:
                find: Callable[[str, str], jsonschema.protocols.Validator] = self._kube if is_core(api_version) else self._crd
                self._cache[key] = find(api_version, kind)
            except SchemaNotFound as exc:
                self._cache[key] = exc
        return self._cache[key]

    # -- validating -----------------------------------------------------------------------
    def problems(self, rendered: RenderedObject) -> list[Problem]:
        obj = rendered.data
        where = Mark(rendered.path, 0, 0)
        kind, api_version = obj.get("kind", "?"), obj.get("apiVersion", "?")
        name = (obj.get("metadata") or {}).get("name", "?")
        found = [Problem(where, f"{kind}/{name}: {message}") for message in _metadata_problems(obj)]
        validator = self.validator(api_version, kind)
        if isinstance(validator, SchemaNotFound):
            self.record_missing({(api_version, kind): (rendered.path, str(validator))})
        else:
            for error in validator.iter_errors(obj):
                path = format_path(list(error.absolute_path)) or "(root)"
                found.append(Problem(where, f"{kind}/{name}: {path}: {error.message}"))
        return found

    def validate(self, objects: Iterable[RenderedObject]) -> list[Problem]:
        """Problems of each object; kinds without a schema are kept for ``missing_problems``."""
        return [problem for rendered in objects for problem in self.problems(rendered)]

    def record_missing(self, missing: dict[tuple[str, str], tuple[str, str]]) -> None:
        for key, found in missing.items():
            self.missing[key] = min(found, self.missing.get(key, found))

    def missing_problems(self) -> list[Problem]:
        """One problem per kind that has no schema, unless told to skip those kinds."""
        if self.ignore_missing:
            return []
        return [
            Problem(Mark(path, 0, 0), f"{reason}; objects of this kind are not validated (or give --ignore-missing-schemas)")
            for path, reason in sorted(self.missing.values())
        ]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _read_schema(where: str) -> dict[str, Any] | None:
    try:
        if re.match(r"https?://", where):
            with urllib.request.urlopen(where, timeout=30) as response:  # noqa: S310 - user's URL
                data = json.load(response)
        else:
            path = Path(where.removeprefix("file://"))
            if not path.is_file():
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _metadata_problems(obj: dict[str, Any]) -> Iterable[str]:
    """What the API server checks on every object but CRD schemas leave out."""
    metadata = obj.get("metadata") or {}
    for key in ("name", "namespace"):
        value = metadata.get(key)
        if value is not None and (len(str(value)) > 253 or not DNS_SUBDOMAIN.match(str(value))):
            yield f"metadata.{key}: {value!r} is not a valid Kubernetes name"
    for key, value in (metadata.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            yield f"metadata.labels.{key}: {value!r} is not a valid label value"
