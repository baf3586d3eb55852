"""Kubernetes quantities (20Gi, 500m, 1e3) as exact numbers, to compare sizes."""
from __future__ import annotations

import re
from fractions import Fraction

_SUFFIX: dict[str, int | Fraction] = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)\Z")


def amount(text: object) -> Fraction | None:
    """The value of a quantity; None for what is not one (the catalog's rules refuse those)."""
    match = _QUANTITY.match(str(text)) if text is not None else None
    if not match:
        return None
    number, exponent, suffix = match.groups()
    try:
        value = Fraction(number)
    except ValueError:
        return None
    if exponent:
        return value * Fraction(10) ** int(exponent[1:])
    return value * _SUFFIX[suffix or ""]
