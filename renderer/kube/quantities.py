"""Kubernetes quantities (20Gi, 500m, 1e3) as exact numbers: resource.Quantity's syntax."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(([eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|)\Z")
_SUFFIXES = {"": Decimal(1), "m": Decimal("0.001"), **{s: Decimal(10) ** (3 * i) for i, s in enumerate("kMGTPE", 1)},
             **{f"{s}i": Decimal(2) ** (10 * i) for i, s in enumerate("KMGTPE", 1)}}


def amount(text: object) -> Decimal | None:
    """A quantity's value, or None for what is not one."""
    found = _QUANTITY.match(str(text)) if text is not None else None
    if not found:
        return None
    try:
        number, suffix = Decimal(found.group(1)), found.group(2)
        return number * (Decimal(10) ** int(suffix[1:]) if suffix[:1] in ("e", "E") else _SUFFIXES[suffix])
    except (InvalidOperation, ValueError):
        return None
