"""What the wheel ships: the embedded schemas (unmodified, with their sources and licences), every
folder of package data declared, so that building it prints no warning, and the modules setup.py
compiles."""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import os
import re
import runpy
import tomllib

from renderer.schemas import EMBEDDED, EMBEDDED_CRDS
from tests.conftest import ROOT

REFERENCE = ROOT.parent / "shared" / "schemas"


def embedded_files() -> list[str]:
    return sorted(p.relative_to(EMBEDDED).as_posix() for p in EMBEDDED.rglob("*.json"))


def test_the_embedded_schemas_are_the_pinned_releases_unmodified() -> None:
    sums = dict(reversed(line.split()) for line in (EMBEDDED / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == embedded_files()
    for name, digest in sums.items():
        assert hashlib.sha256((EMBEDDED / name).read_bytes()).hexdigest() == digest, name
    if REFERENCE.is_dir():  # the reference copy beside the repository, where there is one
        reference = sorted(p.relative_to(REFERENCE).as_posix() for p in REFERENCE.rglob("*.json"))
        assert reference == embedded_files()
        for name in reference:
            assert (REFERENCE / name).read_bytes() == (EMBEDDED / name).read_bytes(), name


def test_every_embedded_schema_has_its_source_and_licence() -> None:
    sources = (EMBEDDED / "SOURCES.md").read_text()
    groups = {p.name for p in EMBEDDED_CRDS.iterdir()}
    assert groups == set(re.findall(r"`crds/([a-z.-]+)/", sources))
    assert "helm/vcluster-0.36.1/values.schema.json" in sources
    assert {"LICENSE-Apache-2.0", "LICENSE-datree-crds-catalog"} <= {p.name for p in EMBEDDED.iterdir()}


def test_every_folder_of_package_data_is_a_declared_package() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(setuptools["packages"])
    folders = {f"renderer.templates.{p.name}" for p in (ROOT / "templates").iterdir() if p.is_dir() and p.name != "__pycache__"}
    folders |= {f"renderer.schemas.{p.name}" for p in EMBEDDED.iterdir() if p.is_dir() and p.name != "__pycache__"}
    # and every folder of Python code (a package missing here would be missing from the wheel)
    folders |= {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "renderer").rglob("__init__.py")}
    assert folders <= declared
    assert setuptools["package-dir"] == {"renderer.templates": "templates"}


def test_the_modules_setup_compiles_are_compiled_all_or_none_and_in_ci_all() -> None:
    """A module compiled without the others would not import; CI installs as a user with a C
    compiler does, and tests what that user runs (the speed bench/ reports is theirs)."""
    compiled = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")["COMPILED"]
    assert compiled == sorted(compiled) and all((ROOT / path).is_file() for path in compiled)
    extension = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    files = [importlib.import_module(path.removesuffix(".py").replace("/", ".")).__file__ or "" for path in compiled]
    built = [file.endswith(extension) for file in files]
    assert all(built) or not any(built), files
    if os.environ.get("CI"):
        assert all(built), files
