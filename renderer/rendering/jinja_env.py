"""Jinja as dbfleet sets it up: its sandboxed environment, and the templates it compiled (in
earlier runs, or shipped).  Classes deriving from Jinja's, apart from templating.py: setup.py
compiles that with mypyc, which compiles no class deriving from another library's."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

# How templating.py sets Jinja up (its finalize) and this module's classes are part of the code
# Jinja compiles a template to: their sources (setup.py compiles templating.py: its file is then
# the extension module beside its source).
_SETUP = hashlib.sha256(b"".join((Path(__file__).parent / name).read_bytes()
                                 for name in ("templating.py", "jinja_env.py"))).hexdigest()[:16]
# The Python source Jinja compiles each built-in template to, made when dbfleet was packaged
# (ship_compiled; tests/test_templating.py says it is current): a new user's first render, and
# every CI runner's, runs no Jinja compiler (0.07 s of the 57 templates; Python's compiling of
# the source is a third of that).  It holds for this Jinja and this setup only (its key), and
# for a template's very text only (its checksum): otherwise Jinja compiles, as without it.
SHIPPED = Path(__file__).parent / "compiled-templates.json"


def shipped_key() -> str:
    return f"jinja2 {jinja2.__version__} {_SETUP}"


def _shipped() -> dict[str, list[str]]:
    """The shipped source of each template by its bucket's key: [checksum of the text, source]."""
    try:
        shipped = json.loads(SHIPPED.read_bytes())
    except (OSError, ValueError):
        return {}
    return shipped["templates"] if isinstance(shipped, dict) and shipped.get("key") == shipped_key() else {}


_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(ImmutableSandboxedEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        """``cluster.name`` of a dict: its key, as the sandbox reads it, without first failing to
        find an attribute of that name (a dict has none but its methods; 45,000 reads of 1,000
        clusters)."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class Compiled(jinja2.BytecodeCache):
    """Templates compiled by earlier runs, in memory: the caller reads and keeps them (the core
    reads no file of the user's).  Jinja takes one only for the very source it was compiled from,
    by the same Jinja and Python, and set up as this module says (its _SETUP); compiling the 57 built-in
    templates costs 0.1 s (0.03 s from the shipped source)."""

    def __init__(self, stored: dict[str, bytes] | None = None) -> None:
        # What another setup compiled is never taken again: it goes with the next save.
        self.stored = {key: data for key, data in (stored or {}).items() if key.startswith(f"{_SETUP}:")}
        self.changed = False
        self._shipped: dict[str, list[str]] | None = None

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.stored.get(f"{_SETUP}:{bucket.key}")
        if data is not None:
            bucket.load_bytecode(io.BytesIO(data))
            return
        if self._shipped is None:
            self._shipped = _shipped()
        shipped = self._shipped.get(bucket.key)
        if shipped is not None and shipped[0] == bucket.checksum:
            bucket.code = compile(shipped[1], "<template>", "exec")  # the file name Jinja gives a DictLoader's
            self.dump_bytecode(bucket)  # kept: the next run loads the code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        out = io.BytesIO()
        bucket.write_bytecode(out)
        self.stored[f"{_SETUP}:{bucket.key}"] = out.getvalue()
        self.changed = True
