"""Canonical, deterministic, YAML-1.1-safe block YAML for rendered objects.

Go YAML readers (kubectl, Argo CD, Flux) follow YAML 1.1, where ``yes``, ``on``, ``0755``,
``12:30`` and ``1e3`` are not strings: any string that any YAML 1.1 or 1.2 reader could take for
something else is double-quoted.  Keys keep the order the template wrote them in.  This is a small
emitter for the JSON-shaped data of Kubernetes objects: ten times faster than PyYAML's C emitter
on that data, and its output is checked by reading it back with PyYAML.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

# Strings a YAML 1.1 (PyYAML, go-yaml v2) or 1.2 (go-yaml v3) reader resolves to non-strings.
_NOT_A_STRING = re.compile(
    r"""(?x)\A(?:
        ~|null|Null|NULL
      | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | [-+.]?[0-9].*                    # numbers, sexagesimals, dates, times: all quoted
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | <<|=
    )\Z"""
)
# Plain scalars allowed: no indicator first, no ': ' or ' #', no leading or trailing space.
_PLAIN = re.compile(r"\A[A-Za-z0-9_./$(\\^][^\x00-\x1f\x7f-\x9f\"'#\u2028\u2029\ufeff\ufffe\uffff]*\Z")
# What YAML readers take as a line break or refuse as unprintable, inside quotes too.
_ESCAPE = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def plain_structure(text: str) -> bool:
    """A plain scalar of this text holds no YAML structure (what it resolves to aside).  ``_PLAIN``
    allows no "#" and no tab: ": " is what is left to look for."""
    return bool(_PLAIN.match(text)) and not text.endswith((" ", ":")) and ": " not in text


def _plain_ok(text: str) -> bool:
    return plain_structure(text) and not _NOT_A_STRING.match(text)


def json_text(value: Any) -> str:
    """JSON, which YAML readers take as flow YAML: escaped wherever YAML differs from JSON."""
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", _json(value))


_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(value, ensure_ascii=False), one encoder for all


# Keys, label values and names repeat across thousands of objects: decide each string once.
_STRINGS: dict[str, str] = {}
_MAX_CACHED = 200_000


def _string(text: str) -> str:
    emitted = _STRINGS.get(text)
    if emitted is None:
        emitted = text if _plain_ok(text) else json_text(text)
        if len(_STRINGS) < _MAX_CACHED:
            _STRINGS[text] = emitted
    return emitted


def scalar(value: Any) -> str:
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{value!r} cannot be written to a Kubernetes object")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot emit {type(value).__name__}")


def _literal_ok(text: str) -> bool:
    """Multi-line text that reads back unchanged as a ``|`` block scalar."""
    if not text.endswith("\n") or text.endswith("\n\n") or text[0] in " \n":
        return False
    return all(
        line == line.rstrip(" \t") and not _ESCAPE.search(line) and all(c >= " " or c == "\t" for c in line)
        for line in text[:-1].split("\n")
    )


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append lines for a non-empty collection ``value`` at ``indent``.  (Strings decided before
    are looked up here, not in a call each: 400,000 of them at 1,000 clusters.)"""
    strings = _STRINGS
    if isinstance(value, dict):
        for key, item in value.items():
            _emit_entry(f"{indent}{strings.get(key) or _string(str(key))}:", item, indent, out)
    else:
        for item in value:
            _emit_item(item, indent, out)


def _emit_item(item: Any, indent: str, out: list[str]) -> None:
    """A list's item: a mapping's first key on the dash's line."""
    if isinstance(item, dict) and item:
        prefix = f"{indent}- "
        for key, sub in item.items():
            _emit_entry(f"{prefix}{_STRINGS.get(key) or _string(str(key))}:", sub, indent + "  ", out)
            prefix = f"{indent}  "
    else:
        _emit_entry(f"{indent}-", item, indent, out)


def _emit_entry(head: str, item: Any, indent: str, out: list[str]) -> None:
    if type(item) is str and "\n" not in item:
        out.append(f"{head} {_STRINGS.get(item) or _string(item)}")
    elif isinstance(item, (dict, list)):
        if item:
            out.append(head)
            _emit(item, indent + "  ", out)
        else:
            out.append(f"{head} {{}}" if isinstance(item, dict) else f"{head} []")
    elif isinstance(item, str) and "\n" in item and _literal_ok(item):
        out.append(f"{head} |")
        pad = indent + "  "
        out.extend(f"{pad}{line}" if line else "" for line in item[:-1].split("\n"))
    else:
        out.append(f"{head} {scalar(item)}")


def dump(document: dict[str, Any]) -> str:
    """One YAML document, block style, ending in a newline."""
    out: list[str] = []
    _emit(document, "", out)
    return "\n".join(out) + "\n"


# Documents that share a shape (a template's skeleton: its values aside) share their lines but for
# those values: the constant lines are written once, and each value as ``_emit`` writes it there.
_SLOT_OPEN, _SLOT_CLOSE = "\ue002", "\ue003"  # Unicode's private use area: no template writes them
_SLOT_LINE = re.compile('(.*[:-]) "\ue002(-?[0-9]+)\ue003"', re.S)
_ENTRY, _ITEM = 0, 1
# Where each value goes: (the text before its line, that text and the line's head, _ENTRY or
# _ITEM, its slot, the head, the indent of what _emit writes of the value), then the text after
# the last value.
Plan = tuple[tuple[tuple[str, str, int, int, str, str], ...], str]


def slot(index: int) -> str:
    """What stands, in a document given to ``plan``, for its ``index``-th value (known when a
    document of that shape is dumped): ``values[index]``, or ``extra[-1 - index]`` for -1, -2 ...
    (``dump_planned``)."""
    return f"{_SLOT_OPEN}{index}{_SLOT_CLOSE}"


_SLOT = re.compile("\ue002(-?[0-9]+)\ue003")


def slot_index(value: Any) -> int | None:
    """The index of the value a ``slot`` string stands for; None for any other value."""
    found = _SLOT.fullmatch(value) if type(value) is str else None
    return None if found is None else int(found.group(1))


def has_slots(text: str) -> bool:
    """The text holds characters slots are made of (its strings cannot be told from slots)."""
    return _SLOT_OPEN in text or _SLOT_CLOSE in text


def plan(shape: dict[str, Any]) -> Plan | None:
    """How to ``dump`` documents shaped like ``shape``, whose ``slot`` strings stand for values
    given later; None where a slot stands for a key, or a string holds a slot's characters."""
    if not _slots_whole(shape):
        return None
    lines: list[str] = []
    _emit(shape, "", lines)
    if not lines:
        return None
    slots: list[tuple[str, str, int, int, str, str]] = []
    seen: set[int] = set()
    before = ""  # the text since the last value's line, with the line break before the next
    for line in lines:
        if _SLOT_OPEN not in line:
            before += line + "\n"
            continue
        found = _SLOT_LINE.fullmatch(line)
        if found is None or _SLOT_OPEN in found.group(1) or int(found.group(2)) in seen:
            return None
        head, index = found.group(1), int(found.group(2))
        seen.add(index)
        lead = len(head) - len(head.lstrip(" "))
        if head.endswith(":"):  # _emit's entries: a list's mapping goes on under its dash
            indent = " " * (lead + 2) if head.startswith("- ", lead) else " " * lead
            slots.append((before, f"{before}{head} ", _ENTRY, index, head, indent))
        else:  # an item of a list: "<indent>-"
            slots.append((before, before, _ITEM, index, head[:-1], ""))
        before = "\n"
    return tuple(slots), before


def _slots_whole(value: Any) -> bool:
    """Every string with a slot's characters is a slot, and a value (not a key)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _SLOT_OPEN not in key and _SLOT_CLOSE not in key and _slots_whole(item)
                   for key, item in value.items())
    if isinstance(value, list):
        return all(_slots_whole(item) for item in value)
    return not isinstance(value, str) or (_SLOT_OPEN not in value and _SLOT_CLOSE not in value) or (
        slot_index(value) is not None)


def dump_planned(planned: Plan, values: list[Any], extra: tuple[Any, ...]) -> str:
    """``dump`` of the document ``plan`` was given, its slots filled: ``values[i]`` for slot ``i``,
    ``extra[-1 - i]`` for a negative one."""
    out: list[str] = []
    strings = _STRINGS
    slots, after = planned
    for before, before_head, kind, index, head, indent in slots:
        value = values[index] if index >= 0 else extra[-1 - index]
        if type(value) is str and kind == _ENTRY and "\n" not in value:  # most values: _emit_entry's first case, inline
            out.append(before_head)
            out.append(strings.get(value) or _string(value))
            continue
        lines: list[str] = []
        if kind == _ENTRY:
            _emit_entry(head, value, indent, lines)
        else:
            _emit_item(value, head, lines)
        out.append(before)
        out.append("\n".join(lines))
    out.append(after)
    return "".join(out)
