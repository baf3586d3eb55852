"""JSON Schema validation of positioned documents, as ``file:line:col`` problems."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from renderer.catalog.positioned import locate
from renderer.errors import Problem, format_path

if TYPE_CHECKING:
    import jsonschema

    from renderer.schemas.compiled import Compiled


MAX_MESSAGE = 300
_ARTICLES = {"object": "a mapping (keys under it)", "array": "a list", "string": "a string", "integer": "a whole number",
             "boolean": "true or false"}


def _leaf_errors(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    """For an overlay's ``anyOf [shape, null]``, the reasons the shape itself failed."""
    if error.validator == "anyOf" and error.context:
        shape = [e for e in error.context if e.relative_schema_path[0] == 0]
        if shape:
            for sub in shape:
                yield from _leaf_errors(sub)
            return
    yield error


def _hint(word: str, choices: Any) -> str:
    import difflib  # only for a word that is not known

    # A strict cutoff: a far-fetched guess ('file' for 'sqlite') misleads more than none.
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shape(schema: Any) -> dict[str, Any]:
    """An overlay's ``anyOf [shape, null]`` is its shape."""
    while isinstance(schema, dict) and "anyOf" in schema:
        schema = schema["anyOf"][0]
    return schema if isinstance(schema, dict) else {}


def _schema_at(root: dict[str, Any], path: list[Any]) -> dict[str, Any]:
    schema = _shape(root)
    for step in path:
        schema = _shape(schema.get("items") if isinstance(step, int) else schema.get("properties", {}).get(step))
    return schema


def _below(key: str, schema: dict[str, Any], depth: int = 2) -> str | None:
    """Where ``key`` is a key within ``depth`` levels below ``schema``: ``sqlite``, ``clusters[]``."""
    level: list[tuple[str, dict[str, Any]]] = [("", schema)]
    for _ in range(depth):
        deeper = []
        for where, node in level:
            for name, sub in (node.get("properties") or {}).items():
                sub = _shape(sub)
                if sub.get("type") == "array":
                    name, sub = f"{name}[]", _shape(sub.get("items"))
                path = f"{where}.{name}" if where else name
                if key in (sub.get("properties") or {}):
                    return path
                deeper.append((path, sub))
        level = deeper
    return None


def _misplaced(key: str, root: dict[str, Any], path: list[Any]) -> str:
    """Where a key unknown at ``path`` belongs when it was indented too far or too little."""
    here = _schema_at(root, path)
    below = _below(key, here)
    if below is not None:
        return f": {key!r} belongs under {below}; check its indentation"
    parent = path[:-2] if len(path) >= 2 and isinstance(path[-1], int) else path[:-1]
    if path and key in (_schema_at(root, parent).get("properties") or {}):
        return f": {key!r} belongs one level up; check its indentation"
    return _hint(key, here.get("properties") or {})


# Keywords that judge a value's format, not the document's structure: the rules can still run
# beside them, so every error is reported at once.
FORMAT_KEYWORDS = {"pattern", "maxLength", "minLength"}


def schema_problems(
    document: Any, validator: Compiled, shown_as: tuple[Any, ...] | None = None, ignored: frozenset[str] = frozenset()
) -> tuple[list[Problem], list[Problem]]:
    """Problems of a whole catalog document (paths shown below ``spec``), or of a part of one
    (paths shown below ``shown_as``, such as ``("clusters", 2)``): those of its structure, and
    those of values' formats; but for errors of the ``ignored`` keywords."""
    problems: list[Problem] = []
    formats: list[Problem] = []
    for top in validator.iter_errors(document):
        if top.validator in ignored:
            continue
        for error in _leaf_errors(top):
            path = list(error.absolute_path)
            if shown_as is not None:
                shown = [*shown_as, *path]
            else:
                shown = path[1:] if path[:1] == ["spec"] else path
            where = format_path(shown)
            prefix = f"{where}: " if where else ""
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
                for key in error.instance:
                    if key not in allowed:
                        mark = locate(document, path + [key])
                        hint = _misplaced(key, validator.schema if isinstance(validator.schema, dict) else {}, path)
                        problems.append(Problem(mark, f"{prefix}unknown key {key!r}{hint}"))
                continue
            mark = locate(document, path)
            if error.validator == "enum":
                options = list(error.validator_value)  # type: ignore[arg-type]
                choices = ", ".join(str(c) for c in options)
                message = f"{error.instance!r} is not one of {choices}"
                if isinstance(error.instance, str):
                    message += _hint(error.instance, options)
            elif error.validator == "type" and isinstance(error.instance, (int, float)) and (
                error.validator_value == "string"
            ):
                message = f"{error.instance!r} is a number; quote it to make it a string"
            elif error.validator == "pattern" and isinstance(error.schema, dict) and "patternErrorMessage" in error.schema:
                message = f"{error.instance!r} {error.schema['patternErrorMessage']}"
            elif error.validator == "maxLength":
                message = f"{error.instance!r} is longer than {error.validator_value} characters"
            elif error.validator == "minLength":
                message = f"{error.instance!r} is shorter than {error.validator_value} characters"
            elif error.validator == "type" and error.instance is None:
                expected = error.validator_value
                message = f"has no value: give {_ARTICLES.get(str(expected), str(expected))}"
                prefix = f"{where or (path[-1] if path else 'the document')}: "
            elif error.validator in ("minProperties", "maxProperties"):  # only backupStores
                message = "give exactly one of s3, gcs, azure or volume"
            else:
                message = error.message
            if len(message) > MAX_MESSAGE:  # a huge value is not repeated whole
                message = message[:MAX_MESSAGE] + "…"
            (formats if error.validator in FORMAT_KEYWORDS else problems).append(Problem(mark, prefix + message))
    return problems, formats
