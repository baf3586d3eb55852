"""A digest of everything a render's bytes depend on, so ``render --check`` can skip rendering."""
from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import renderer

if TYPE_CHECKING:
    from renderer.catalog.sources import Source


def builtin_templates_dir() -> Path:
    """The templates that ship with dbfleet (package data ``renderer.templates``): the package's
    folder, found without importlib.resources (5 ms to import with its zipfile)."""
    return Path(next(iter(importlib.import_module("renderer.templates").__path__)))


def _tree_files(root: Path, suffixes: tuple[str, ...]) -> list[str]:
    """The files under ``root`` whose names end so, relative to it, sorted (one walk: a glob for
    each suffix cost half of ``render --check``'s digest of the code)."""
    found = []
    for folder, _, names in os.walk(root):
        where = os.path.relpath(folder, root)
        found += [name if where == "." else f"{where}/{name}" for name in names if name.endswith(suffixes)]
    return sorted(found)


def code_digest(template_dirs: Iterable[Path]) -> str:
    """The renderer's own code and every template it may read."""
    digest = hashlib.sha256(renderer.__version__.encode())
    package = Path(renderer.__file__).parent
    roots = [(package, (".py",))] + [(d, (".j2", ".sh", ".lua", ".js")) for d in template_dirs]
    for root, suffixes in roots:
        for rel in _tree_files(root, suffixes):
            path = root / rel
            if path.is_file():  # not a broken link
                digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_digest(code: str, sources: Iterable[Source], env: str) -> str:
    digest = hashlib.sha256(f"{code}\0{env}\0".encode())
    for source in sources:
        digest.update(f"{source.name}\0{len(source.text)}\0".encode() + source.text.encode() + b"\0")
    return digest.hexdigest()
