"""A JSON Schema compiled twice: jsonschema-rs says whether a document is valid (a hundred times
faster), and only when it is not does jsonschema explain why, with its precise messages."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, cast

if TYPE_CHECKING:
    import jsonschema


class Compiled:
    """One schema, compiled twice: the fast validator answers valid or not, the other says why."""

    __slots__ = ("fast", "slow")

    def __init__(self, slow: jsonschema.protocols.Validator, retrieve: Any = None) -> None:
        import jsonschema_rs

        self.slow = slow
        try:
            self.fast: Any = jsonschema_rs.validator_for(
                cast(Any, slow.schema), validate_formats=False,  # as jsonschema without a format checker
                **({"base_uri": "https://kubernetes-validate.local/", "retriever": retrieve} if retrieve else {}))
        except (ValueError, jsonschema_rs.ReferencingError):  # a schema it cannot compile: explain every object
            self.fast = None

    @property
    def schema(self) -> Any:
        return self.slow.schema

    def iter_errors(self, document: Any) -> Iterator[jsonschema.ValidationError]:
        if self.fast is not None and self.fast.is_valid(document):
            return iter(())
        return self.slow.iter_errors(document)

