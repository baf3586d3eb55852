"""Where output schemas come from: the user's locations first, then the schemas embedded here.

A location is a folder (in the kubeconform layout ``<group>/<kind>_<version>.json``, or
``<chart>-<version>/values.schema.json`` for Helm charts' values) or a template with fields in
braces, a URL or a path.  A location that does not have a schema (no file, HTTP 404) passes the
search on to the next; one that cannot answer (no network, a timeout, another HTTP error) is a
failure, reported with the URL and the reason.  Fetched schemas, and what a server did not have,
are cached on disk, so a second run needs no network.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from renderer.writing.cache import cache_root, store_atomically

EMBEDDED = Path(__file__).parent
EMBEDDED_CRDS = EMBEDDED / "crds"
EMBEDDED_CHARTS = EMBEDDED / "helm"
CRD_LAYOUT = "{group}/{kind}_{version}.json"
CHART_LAYOUT = "{chart}-{version}/values.schema.json"
FETCH_TIMEOUT = 15.0  # seconds; a pre-commit hook should not hang on a dead network
_URL = re.compile(r"https?://")
_NOT_FOUND = "not-found"


class SchemaNotFound(Exception):
    """No location has the schema: the kind may be skipped with --ignore-missing-schemas."""


class SchemaUnavailable(Exception):
    """A location could not answer: never skipped, since the schema may well be there."""


def cache_dir() -> Path:
    """The XDG cache folder of fetched schemas."""
    return cache_root() / "schemas"


def location_problems(locations: list[str], layout: str) -> list[str]:
    """Why each location the user gave cannot be used: a folder that does not exist, a template
    with fields the layout does not have."""
    if not locations:  # (most runs: string, for its Formatter, is not imported)
        return []
    import string

    fields = sorted(name for _, name, _, _ in string.Formatter().parse(layout) if name)
    shown = ", ".join(f"{{{name}}}" for name in fields)
    problems = []
    for location in locations:
        if "{" in location:
            try:
                unknown = sorted({name for _, name, _, _ in string.Formatter().parse(location) if name is not None} - set(fields))
            except ValueError as exc:  # an unmatched brace
                problems.append(f"{location!r} is not a template: {exc}")
                continue
            if unknown:
                problems.append(f"{location!r}: a template may use only {shown}, not {', '.join(f'{{{n}}}' for n in unknown)}")
        elif not _URL.match(location) and not Path(location.removeprefix("file://")).is_dir():
            problems.append(f"{location!r} is not a folder, nor a URL template with {shown}")
    return problems


class SchemaSearch:
    """The schemas of one layout (CRDs or chart values) along the user's locations and then the
    embedded folder; each document is read or fetched once."""

    def __init__(self, locations: list[str], layout: str, embedded: Path, what: str,
                 timeout: float = FETCH_TIMEOUT) -> None:
        self.templates = [_template(location, layout) for location in locations]
        self.embedded = embedded
        self.layout = layout
        self.what = what  # "--schema-location", named in messages
        self.timeout = timeout
        self._down: dict[str, str] = {}  # host -> why it could not be reached

    def find(self, fields: dict[str, str], missing: str) -> dict[str, Any]:
        """The first schema found for ``fields``; ``missing`` says what was looked for."""
        looked: list[str] = []
        for template in self.templates:
            where = template.format(**fields)
            schema = self._fetch(where) if _URL.match(where) else _read(where)
            if schema is not None:
                return schema
            looked.append(where)
        schema = _read(str(self.embedded / self.layout.format(**fields)))
        if schema is not None:
            return schema
        tried = f" (looked in {', '.join(looked)})" if looked else ""
        raise SchemaNotFound(f"{missing}: not among the schemas embedded in dbfleet{tried}; give {self.what}")

    def _fetch(self, url: str) -> dict[str, Any] | None:
        cached = cache_dir() / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        try:
            data = json.loads(cached.read_text(encoding="utf-8"))
            return None if data == _NOT_FOUND else _schema(data, url)
        except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            pass
        import urllib.error  # only a URL location fetches: not loaded by every run of the CLI
        import urllib.parse
        import urllib.request

        host = urllib.parse.urlsplit(url).netloc
        if host in self._down:
            raise SchemaUnavailable(f"cannot fetch {url}: {self._down[host]}")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 - the user's URL
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                store_atomically(cached, json.dumps(_NOT_FOUND).encode())
                return None
            raise SchemaUnavailable(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            self._down[host] = f"{reason}"
            raise SchemaUnavailable(f"cannot fetch {url}: {reason}") from None
        try:
            schema = _schema(json.loads(body), url)
        except (ValueError, RecursionError) as exc:
            raise SchemaUnavailable(f"{url} is not a JSON Schema: {exc}") from None
        store_atomically(cached, body)
        return schema


def _template(location: str, layout: str) -> str:
    """A location as a template of the layout's fields: a folder or a base URL gets the layout."""
    location = location.removeprefix("file://")
    if "{" in location:
        return location
    if _URL.match(location):
        return location.rstrip("/") + "/" + layout
    return str(Path(location) / layout)


def _schema(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where} does not hold a JSON object")
    return data


def _read(path: str) -> dict[str, Any] | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise SchemaUnavailable(f"cannot read {path}: {exc.strerror}") from None
    try:
        return _schema(json.loads(text), path)
    except (ValueError, RecursionError) as exc:
        raise SchemaUnavailable(f"{path} is not a JSON Schema: {exc}") from None
