"""dbfleet's folder in the user's cache (XDG): fetched schemas, and what rendered an output folder.
Everything there can be deleted at any time; it only saves network and time."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dbfleet"


def store_atomically(path: Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write a cache entry whole, or not at all: a cache that cannot be written is no error.
    ``data``: the bytes, or their parts one after another (never all in memory at once)."""
    import tempfile  # (not with `render --check`, which writes nothing when nothing changed)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".new-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in [data] if isinstance(data, bytes) else data:
                handle.write(part)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
