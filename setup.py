"""dbfleet's build: the modules that read a catalog, render, validate and write each object are
compiled to C with mypyc where a C compiler and Python's headers are at hand (a cold render of
1,000 clusters takes 16 % fewer instructions); elsewhere, or with DBFLEET_COMPILE=0, they stay
Python.  Both run the same source and write the same bytes.

An editable install keeps the compiled modules beside their ``.py``, and Python loads the compiled
one first: after an edit, install again (``pip install -e .``), or delete them (``git clean -fX --
'*.so'``) to run the Python.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The code that runs for every object, catalog node or YAML event (bench/instructions.py counts
# what each saves).  Classes deriving from built-in, C or other libraries' types live in modules
# left out (renderer/catalog/nodes.py, renderer/rendering/jinja_env.py): mypyc compiles no such class.
COMPILED = [
    "renderer/catalog/load.py",
    "renderer/catalog/positioned.py",
    "renderer/emit.py",
    "renderer/kube/kubenames.py",
    "renderer/rendering/render.py",
    "renderer/rendering/templating.py",
    "renderer/rules/_walk.py",
    "renderer/rules/secrets.py",
    "renderer/schemas/cel.py",
    "renderer/validate.py",
]


def _warn(why: str) -> None:
    print(f"dbfleet: {why}; its modules stay Python (the same output, a fifth more instructions)", file=sys.stderr)


class _OptionalBuildExt(build_ext):
    """The compiled modules are a speed-up, not a requirement: a build that fails leaves none of
    them (a module compiled without the library they share would not import)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers, a compiler's error
            for path in self.get_outputs():
                if os.path.exists(path):
                    os.remove(path)
            _warn(f"compiling failed ({exc})")


def _ext_modules() -> list[Any]:
    if os.environ.get("DBFLEET_COMPILE", "1") == "0":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not installed")
        return []
    # Modules beyond these are read for their types only; installed libraries (jinja2, jsonschema
    # ...) count as untyped, whether pip installed them before building dbfleet or not: the same
    # compiled code in every environment.
    try:
        return mypycify(["--no-site-packages", "--ignore-missing-imports", "--no-warn-unused-ignores", *COMPILED],
                        group_name="dbfleet")
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _warn(f"mypyc refused them ({exc})")
        return []


if __name__ == "__main__":  # (as setuptools runs it; tests read COMPILED)
    setup(ext_modules=_ext_modules(), cmdclass={"build_ext": _OptionalBuildExt})
