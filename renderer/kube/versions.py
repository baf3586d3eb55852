"""The database versions each pinned operator release runs, and the images dbfleet pins for them.

A catalog's ``version`` is a release line (``"17"``, ``"8.0"``, ``"4.3"``: its newest build
here), an upstream version this table has a build of (``"8.0.19"`` is ``8.0.19-7``), or a build's
exact tag. Anything else is refused, listing what is accepted: an operator that does not certify a
version refuses it, or runs it untested.  ``dbfleet versions`` prints this table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MINOR = re.compile(r"[0-9]+\.[0-9]+\Z")


@dataclass(frozen=True)
class Build:
    version: str  # upstream: 17.10, 8.0.45, 4.3.1
    tag: str  # the image's tag
    metadata: str | None = None  # Kafka: the KRaft metadata version


# Engine.resolve's answers, by the engine's identity (the engines are this module's, for good) and text.
_RESOLVED: dict[tuple[int, str], Build | None] = {}


@dataclass(frozen=True)
class Engine:
    operator: str
    image: str
    source: str  # where the builds come from, at the pinned release
    builds: tuple[Build, ...]  # newest first within each line
    line_parts: int = 2  # a release line: PostgreSQL's major ("17"), the others' major.minor ("8.0")
    # Any minor of a supported line is run, not only the builds: its image tag is the version as
    # written and this suffix, so that it stays in the builds' image family and OS.
    any_minor: bool = False
    minor_tag_suffix: str = ""

    def line(self, build: Build) -> str:
        return ".".join(build.version.split(".")[:self.line_parts])

    def resolve(self, written: str) -> Build | None:
        """The build a catalog's version means, or None (looked up once per engine and text:
        every cluster of a fleet asks, the rules and the engines alike)."""
        key = (id(self), written)
        if key not in _RESOLVED:
            _RESOLVED[key] = self._resolve(written)
        return _RESOLVED[key]

    def _resolve(self, written: str) -> Build | None:
        for build in self.builds:
            if written in (build.tag, build.version):
                return build
        newest = next((build for build in self.builds if self.line(build) == written), None)
        if newest is None and self.any_minor and _MINOR.match(written) and written.split(".")[0] in self.lines:
            return Build(written, written + self.minor_tag_suffix)
        return newest

    @property
    def lines(self) -> list[str]:
        return list(dict.fromkeys(self.line(build) for build in self.builds))

    def accepted(self) -> str:
        lines = ", ".join(f'"{line}" ({self.resolve(line).tag})' for line in self.lines)  # type: ignore[union-attr]
        return f"{lines}, or a minor of one of them (\"16.4\")" if self.any_minor else lines


ENGINES = {
    # CloudNativePG 1.30 supports PostgreSQL 14-18 (docs/src/supported_releases.md at v1.30.0) and
    # tests these operand images (.github/pg_versions.json at v1.30.0; the default is 18.4).
    "postgresql": Engine(
        "CloudNativePG 1.30.0",
        "ghcr.io/cloudnative-pg/postgresql",
        "cloudnative-pg v1.30.0: .github/pg_versions.json, docs/src/supported_releases.md",
        tuple(Build(version, f"{version}-system-trixie") for version in (
            "18.4", "18.3", "17.10", "17.9", "16.14", "16.13", "15.18", "15.17", "14.23", "14.22")),
        line_parts=1,
        # The operator supports the major and runs any of its minors; CloudNativePG publishes an
        # image of each family for each (ghcr.io/cloudnative-pg/postgresql:<major>.<minor>-system-trixie).
        # The bare <major>.<minor> tag is another family (another OS: a collation change that
        # corrupts text indexes), so a minor keeps the builds' suffix.
        any_minor=True,
        minor_tag_suffix="-system-trixie",
    ),
    # The PXC images operator 1.20.0 was tested with (its release notes, "Supported Software").
    "mysql": Engine(
        "Percona Operator for MySQL based on Percona XtraDB Cluster 1.20.0",
        "percona/percona-xtradb-cluster",
        "k8spxc-docs: docs/ReleaseNotes/Kubernetes-Operator-for-PXC-RN1.20.0.md, Supported Software",
        (Build("8.4.8", "8.4.8-8.1"), Build("8.0.45", "8.0.45-36.1"), Build("5.7.44", "5.7.44-31.65")),
    ),
    # e2e-tests/release_versions at v1.22.0: IMAGE_MONGOD80, IMAGE_MONGOD70, IMAGE_MONGOD60.
    "mongodb": Engine(
        "Percona Operator for MongoDB 1.22.0",
        "percona/percona-server-mongodb",
        "percona-server-mongodb-operator v1.22.0: e2e-tests/release_versions",
        (Build("8.0.19", "8.0.19-7"), Build("7.0.30", "7.0.30-16"), Build("6.0.27", "6.0.27-21")),
    ),
    # kafka-versions.yaml at 1.2.0: the versions with supported: true, and their metadata versions.
    "kafka": Engine(
        "Strimzi 1.2.0",
        "quay.io/strimzi/kafka",  # Strimzi picks the image from spec.kafka.version
        "strimzi-kafka-operator 1.2.0: kafka-versions.yaml",
        tuple(Build(version, f"1.2.0-kafka-{version}", metadata) for version, metadata in (
            ("4.3.1", "4.3-IV0"), ("4.3.0", "4.3-IV0"), ("4.2.1", "4.2-IV1"), ("4.2.0", "4.2-IV1"))),
    ),
}


def image(engine: str, written: str) -> str:
    """The database image of a version the rules accepted."""
    return f"{ENGINES[engine].image}:{resolve(engine, written).tag}"


def resolve(engine: str, written: str) -> Build:
    """The build of a version the rules accepted."""
    build = ENGINES[engine].resolve(written)
    if build is None:  # pragma: no cover - the rules refuse it first
        raise ValueError(f"{engine} {written!r} is not in the version table")
    return build


@dataclass(frozen=True)
class Helper:
    image: str
    source: str


# The images the pinned operator releases run beside the database: the operators keep
# upgradeOptions.apply disabled, so dbfleet names each one, as the release pins it.
PXC_NOTES = "PXC operator 1.20.0 release notes, Supported Software"
HELPERS = {
    "pxc-haproxy": Helper("percona/haproxy:2.8.18-1", PXC_NOTES),
    "pxc-xtrabackup-8.4": Helper("percona/percona-xtrabackup:8.4.0-5.1", PXC_NOTES),
    "pxc-xtrabackup-8.0": Helper("percona/percona-xtrabackup:8.0.35-35.1", PXC_NOTES),
    "pxc-xtrabackup-5.7": Helper("percona/percona-xtrabackup:2.4.29", PXC_NOTES),
    "pxc-pmm-client": Helper("percona/pmm-client:3.8.0", PXC_NOTES),
    "psmdb-backup": Helper("percona/percona-backup-mongodb:2.12.0", "PSMDB operator v1.22.0: e2e-tests/release_versions IMAGE_BACKUP"),
    "psmdb-pmm-client": Helper("percona/pmm-client:3.6.0", "PSMDB operator v1.22.0: e2e-tests/release_versions IMAGE_PMM3_CLIENT"),
}


def helper(name: str) -> str:
    return HELPERS[name].image
