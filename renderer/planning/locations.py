"""Where backups live outside the cluster, and who owns what on a server.

Every backup location is scoped to its environment and its entry (``<store path>/<env>/<entry>``),
so two environments, or two entries, never write into one folder: CloudNativePG refuses to archive
into a non-empty archive, PXC collects binlogs without filtering by cluster, PBM takes every backup
under its prefix for its own, and a ``latest`` dump restore would load another environment's data.
The engines build their paths from here, and the fleet rule checks the result across environments.
Works on normalised and on positioned stores alike (absent keys read as none).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

STORE_KINDS = ("s3", "gcs", "azure", "volume")
# The keys of a store's credentialsSecret: the ones the Percona operators read (hard-coded in
# pkg/pxc/backup/job.go of the PXC operator and pkg/psmdb/backup/pbm.go at v1.22.0); CloudNativePG,
# rclone and Litestream are pointed at the same keys, so one Secret serves every consumer.
STORE_SECRET_KEYS = {
    "s3": {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"},
    "azure": {"account": "AZURE_STORAGE_ACCOUNT_NAME", "key": "AZURE_STORAGE_ACCOUNT_KEY"},
    # A service account's JSON key (CloudNativePG, rclone, Litestream), and its two fields as PBM reads them.
    "gcs": {"file": "credentials.json", "clientEmail": "GCS_CLIENT_EMAIL", "privateKey": "GCS_PRIVATE_KEY"},
}
# How PXC names a backup, and so its folder: the cluster, the time, the type
# (pkg/controller/pxcbackup at v1.20.0: <cluster>-YYYY-MM-DD-hh:mm:ss-full).
PXC_BACKUP_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?)-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}-full\Z")
SCHEMES = {"s3": "s3://", "gcs": "gs://", "azure": "azure://", "volume": "pvc:"}


@dataclass(frozen=True, order=True)
class Location:
    """A folder in a store: its kind, its bucket (container, claim) and the path in it."""

    kind: str
    bucket: str
    folder: tuple[str, ...]

    def __str__(self) -> str:
        return SCHEMES[self.kind] + "/".join((self.bucket, *self.folder))

    @property
    def path(self) -> str:
        return "/".join(self.folder)

    def outer(self) -> Iterator[Location]:
        """The folders that hold this one: what is written here is seen there too."""
        for depth in range(1, len(self.folder)):
            yield Location(self.kind, self.bucket, self.folder[:depth])


def store_kind(store: Mapping[str, Any]) -> str:
    return next(kind for kind in STORE_KINDS if store.get(kind))


def store_root(store: Mapping[str, Any]) -> Location:
    """The store's own folder: its bucket and path."""
    kind = store_kind(store)
    settings = store[kind]
    if kind == "azure":
        bucket = f"{settings.get('storageAccount')}/{settings.get('container')}"
    else:
        bucket = str(settings.get("claim") if kind == "volume" else settings.get("bucket"))
    path = str(settings.get("path") or "")
    return Location(kind, bucket, tuple(part for part in path.split("/") if part))


def backup_location(store: Mapping[str, Any], env: str, entry: str | None = None) -> Location:
    """The folder of one environment's backups (of one entry) in a store."""
    root = store_root(store)
    return Location(root.kind, root.bucket, (*root.folder, env, *([entry] if entry else [])))


# Workload identity: the ServiceAccount annotation each cloud's webhook or metadata server reads
# (EKS IAM roles for service accounts; GKE Workload Identity; Azure Workload Identity, whose
# webhook also wants a label on the pod).
IDENTITY_ANNOTATIONS = {
    "aws": ("roleArn", "eks.amazonaws.com/role-arn"),
    "gcp": ("serviceAccount", "iam.gke.io/gcp-service-account"),
    "azure": ("clientId", "azure.workload.identity/client-id"),
}
AZURE_POD_LABELS = {"azure.workload.identity/use": "true"}


@dataclass(frozen=True)
class Identity:
    """How the pods that use a store authenticate to it: as this ServiceAccount."""

    account: str  # the ServiceAccount dbfleet makes in each namespace whose entries use the store
    annotations: dict[str, str]  # of the ServiceAccount
    pod_labels: dict[str, str]  # of every pod that runs as it


def store_identity(name: str, store: Mapping[str, Any]) -> Identity | None:
    """The cloud identity of a store (None: it authenticates with keys, or ambiently)."""
    given = (store[store_kind(store)] or {}).get("identity")
    if not given:
        return None
    cloud = next(iter(given))
    key, annotation = IDENTITY_ANNOTATIONS[cloud]
    return Identity(f"backup-store-{name}", {annotation: str(given[cloud][key])},
                    dict(AZURE_POD_LABELS) if cloud == "azure" else {})


def stores_used(entry: Mapping[str, Any]) -> list[str]:
    """The stores an entry's pods write to or read from: its backup's and its restore's."""
    backup, restore = entry.get("backup") or {}, entry.get("restore") or {}
    used = [backup.get("store") if backup.get("method") != "none" else None, restore.get("fromStore")]
    return sorted({name for name in used if name})


def entry_identity(entry: Mapping[str, Any], stores: Mapping[str, Mapping[str, Any]]) -> Identity | None:
    """The cloud identity the pods of an entry run as: that of the stores it uses (one at most:
    the backups rule refuses two)."""
    found = (store_identity(name, stores[name]) for name in stores_used(entry) if name in stores)
    return next((identity for identity in found if identity), None)


PORTS = {"postgresql": 5432, "mysql": 3306, "mongodb": 27017}  # each engine's own


def server_identity(server: Mapping[str, Any]) -> tuple[str, str, int]:
    """What a server is, whatever the catalog calls it: its engine, host and port."""
    engine = str(server.get("engine"))
    return engine, str(server.get("host")).lower(), int(server.get("port") or PORTS.get(engine, 0))
