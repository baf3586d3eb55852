"""A JSON Schema compiled twice: jsonschema-rs says whether a document is valid (a hundred times
faster), and only when it is not does jsonschema explain why, with its precise messages."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    import jsonschema


class Compiled:
    """One schema, compiled twice: the fast validator answers valid or not; the other, made
    (and jsonschema imported) only when a document fails, says why."""

    __slots__ = ("schema", "fast", "_slow", "_make_slow")

    def __init__(self, schema: Any, make_slow: Callable[[], jsonschema.protocols.Validator] | None = None,
                 retrieve: Callable[[str], Any] | None = None) -> None:
        import jsonschema_rs

        self.schema = schema
        self._slow: jsonschema.protocols.Validator | None = None
        self._make_slow = make_slow or (lambda: _draft_of(schema)(schema))
        try:
            references: dict[str, Any] = (
                {"base_uri": "https://kubernetes-validate.local/", "retriever": retrieve} if retrieve else {})
            self.fast: Any = jsonschema_rs.validator_for(
                schema, validate_formats=False, **references)  # no formats: as jsonschema without a format checker
        except (ValueError, jsonschema_rs.ReferencingError):  # a schema it cannot compile: explain every object
            self.fast = None

    @property
    def slow(self) -> jsonschema.protocols.Validator:
        if self._slow is None:
            self._slow = self._make_slow()
        return self._slow

    def iter_errors(self, document: Any) -> Iterator[jsonschema.ValidationError]:
        if self.fast is not None and self.fast.is_valid(document):
            return iter(())
        return self.slow.iter_errors(document)


def _draft_of(schema: Any) -> Any:
    """The jsonschema validator class of the schema's $schema (2020-12 when it names none)."""
    import jsonschema

    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
