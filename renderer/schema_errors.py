"""JSON Schema validation of positioned documents, as ``file:line:col`` problems."""
from __future__ import annotations

import difflib
from typing import Any, Iterator

import jsonschema

from renderer.errors import Problem
from renderer.positioned import format_path, locate


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
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def schema_problems(
    document: Any, validator: jsonschema.protocols.Validator, shown_as: tuple[Any, ...] | None = None
) -> list[Problem]:
    """Problems of a whole catalog document (paths shown below ``spec``), or of a part of one
    (paths shown below ``shown_as``, such as ``("clusters", 2)``)."""
    problems: list[Problem] = []
    for top in validator.iter_errors(document):
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
                        problems.append(
                            Problem(mark, f"{prefix}unknown key {key!r}{_hint(key, allowed)}")
                        )
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
            elif error.validator in ("minProperties", "maxProperties"):  # only backupStores
                message = "give exactly one of s3, gcs, azure or volume"
            else:
                message = error.message
            problems.append(Problem(mark, prefix + message))
    return problems
