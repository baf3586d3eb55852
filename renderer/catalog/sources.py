"""The catalog's and overlays' files, found and read as text: all that ``render --check`` needs
of them when nothing changed (it parses no YAML)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from renderer.errors import DbfleetError, Mark, Problem

MAX_FILE = 20_000_000  # bytes of one catalog or overlay file


@dataclass(frozen=True)
class Source:
    """One input file: its name as the user sees it, and its bytes (for digests)."""

    name: str
    text: str


def yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def read_inputs(catalog_paths: list[Path], overlay_paths: list[Path], base: Path) -> tuple[list[Source], list[Source]]:
    """The catalog's files and the overlays', read; a catalog of no file is bad input."""
    catalog_sources = read_sources(catalog_paths, base)
    if not catalog_sources:
        raise DbfleetError([Problem(Mark(", ".join(str(p) for p in catalog_paths) or "catalog/", 0, 0), "no catalog files found")])
    return catalog_sources, read_sources(overlay_paths, base)


def read_sources(paths: Iterable[Path], base: Path) -> list[Source]:
    sources = []
    for path in paths:
        try:
            shown = str(path.relative_to(base))
        except ValueError:
            shown = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE:
                raise DbfleetError([Problem(Mark(shown, 1, 1), f"the file has {size:,} bytes: dbfleet reads catalog "
                                                               f"files of at most {MAX_FILE:,}")])
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
            raise DbfleetError([Problem(Mark(shown, line, col), f"not UTF-8: the byte 0x{raw[exc.start]:02x} here is not "
                                                                "valid UTF-8; save the file as UTF-8")]) from None
        except OSError as exc:
            raise DbfleetError([Problem(Mark(shown, 1, 1), f"cannot read: {exc.strerror}")]) from None
        sources.append(Source(shown, text))
    return sources
