"""Set one value in a YAML file by splicing its text: every other byte (comments, key order,
quotes, flow or block style, blank lines) stays as the user wrote it.

The composer gives each node's start and end (in characters); the edit replaces a scalar between
them, or inserts a key or list item in the style of its neighbours.  Dumping a round-trip
document instead (ruamel.yaml) re-flows long lines and re-indents lists, which makes the diff
larger than the change; and ruamel's composer gives the same marks at four times the cost of
libyaml's (2.3 s against 0.55 s for the 1,000-cluster benchmark catalog).
"""
from __future__ import annotations

import functools
import re
from typing import Any, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from renderer import emit
from renderer.catalog.nodes import LOADER
from renderer.catalog.positioned import resolve_plain

YAML11_BOOLS = {"y", "n", "yes", "no", "on", "off"}  # strings in YAML 1.2, booleans to older readers: quoted
_YAML11_TIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]+:[0-9]")  # timestamps, sexagesimals to YAML 1.1
_QUOTED_BY_PEOPLE = re.compile(r"[\s*&!|>'%@`{}\[\],]")  # valid plain, but a cron line or a sentence reads better quoted
WIDTH = 100  # a nested mapping or list item shorter than this is written on one line, {a: 1}
Step = Union[str, tuple[str, str]]  # a key, or ("name", value): the item of a list with that name


class EditError(Exception):
    """The file does not have the shape the edit needs (a value where a mapping should be)."""


@functools.lru_cache(maxsize=4)  # a command looks for the entry, then edits: one parse of each text
def documents(text: str) -> list[Node]:
    return [doc for doc in yaml.compose_all(text, Loader=LOADER) if doc is not None]


def child(node: Node, step: Step) -> Node | None:
    """The value under a key, or the named item of a list."""
    if isinstance(step, str):
        if isinstance(node, MappingNode):
            return next((value for key, value in node.value if key.value == step), None)
        return None
    if isinstance(node, SequenceNode):
        field, wanted = step
        for item in node.value:
            if isinstance(item, MappingNode) and any(k.value == field and v.value == wanted for k, v in item.value
                                                     if isinstance(v, ScalarNode)):
                return item
    return None


def find(node: Node, path: list[Step]) -> Node | None:
    for step in path:
        found = child(node, step)
        if found is None:
            return None
        node = found
    return node


def scalar(value: Any, style: str | None = None) -> str:
    """A value as a YAML scalar, in the quoting style of the one it replaces where it can be."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if (style == '"' or not (emit.plain_structure(text) and resolve_plain(text) == text) or text.lower() in YAML11_BOOLS
            or _YAML11_TIME.match(text) or _QUOTED_BY_PEOPLE.search(text)):
        return emit.json_text(text)
    return text  # plain, as people write catalogs: it reads back as this string (YAML 1.2 core)


def _nested(path: list[Step], value: Any) -> Any:
    """The structure to insert for the part of ``path`` that does not exist yet."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(step, str):
        return {step: _nested(rest, value)}
    item = {step[0]: step[1]}
    inner = _nested(rest, value)
    item.update(inner)
    return [item]


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value)


def _block(value: dict[str, Any], indent: int) -> list[str]:
    """Block lines of a mapping at ``indent``; lists of mappings as '- ' items."""
    lines = []
    pad = " " * indent
    for key, item in value.items():
        flow = f"{pad}{key}: {_flow(item)}"
        if isinstance(item, dict) and len(flow) > WIDTH:
            lines += [f"{pad}{key}:"] + _block(item, indent + 2)
        elif isinstance(item, list) and item and all(isinstance(i, dict) for i in item):  # a list of entries
            lines.append(f"{pad}{key}:")
            for entry in item:
                one = f"{pad}  - {_flow(entry)}"
                if len(one) <= WIDTH:
                    lines.append(one)
                    continue
                inner = _block(entry, indent + 4)
                lines.append(f"{pad}  - {inner[0].lstrip()}")
                lines += inner[1:]
        else:
            lines.append(flow)
    return lines


def _last_end(node: Node) -> int:
    """Where the node's last character is: for a block collection, that of its last scalar (its
    own end is the next token's start, past comments and blank lines)."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return int(node.end_mark.index)


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _closing(text: str, node: Node) -> tuple[int, bool]:
    """Where to insert before a flow collection's closing bracket, and whether it is empty."""
    close = int(node.end_mark.index) - 1
    at = close
    while text[at - 1] in " \t\n":
        at -= 1
    return at, not node.value


def set_value(text: str, root: Node, path: list[Step], value: Any) -> str:
    """``text`` with the value at ``path`` (from ``root``) set, created if missing."""
    node = root
    for i, step in enumerate(path):
        found = child(node, step)
        if found is None:
            return _insert(text, node, path[i:], value)
        node = found
    if not isinstance(node, ScalarNode):
        raise EditError(f"{'.'.join(s if isinstance(s, str) else s[1] for s in path)} holds a "
                        f"{'list' if isinstance(node, SequenceNode) else 'mapping'}, not one value")
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    if node.style in ("|", ">"):
        raise EditError("the value is a block scalar: edit it by hand")
    new = scalar(value, node.style)
    # A comment after the value keeps its column, as people align them.
    gap = len(text[end:_line_end(text, end)]) - len(text[end:_line_end(text, end)].lstrip(" "))
    if gap and text[end + gap:end + gap + 1] == "#":
        end += gap
        new += " " * max(1, gap + (int(node.end_mark.index) - int(node.start_mark.index)) - len(new))
    return text[:start] + new + text[end:]


def _insert(text: str, node: Node, path: list[Step], value: Any) -> str:
    new = _nested(path, value)
    if isinstance(node, ScalarNode) and node.value in ("", "~", "null", "Null", "NULL") and not node.style:
        start, end = int(node.start_mark.index), int(node.end_mark.index)
        if start == end:  # "key:" with nothing after it
            start = end = text.rindex(":", 0, start) + 1
            return text[:start] + " " + _flow(new) + text[end:]
        return text[:start] + _flow(new) + text[end:]
    if isinstance(node, MappingNode) and isinstance(path[0], str):
        if node.flow_style or not node.value:
            at, empty = _closing(text, node)
            inner = _flow(new)[1:-1]
            return text[:at] + ("" if empty else ", ") + inner + text[at:]
        indent = int(node.value[0][0].start_mark.column)
        at = _line_end(text, _last_end(node))
        return text[:at] + "\n" + "\n".join(_block(new, indent)) + text[at:]
    if isinstance(node, SequenceNode) and not isinstance(path[0], str):
        item = new[0]
        if node.flow_style or not node.value:
            at, empty = _closing(text, node)
            return text[:at] + ("" if empty else ", ") + _flow(item) + text[at:]
        first = node.value[0]
        content = int(first.start_mark.column)
        dash = text.rindex("-", 0, int(first.start_mark.index))
        dash_col = dash - (text.rfind("\n", 0, dash) + 1)
        lines = _block(item, content)
        lines[0] = " " * dash_col + "-" + " " * (content - dash_col - 1) + lines[0].lstrip()
        at = _line_end(text, _last_end(node))
        return text[:at] + "\n" + "\n".join(lines) + text[at:]
    raise EditError("the file has another shape here than a catalog (a value where a mapping or list should be)")
