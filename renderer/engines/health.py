"""When an object the engines render is ready, as Flux health checks (``healthCheckExprs``, CEL).

Flux counts a custom object as ready once applied unless it has ``observedGeneration`` or
Reconciling/Stalled conditions (kstatus): a CloudNativePG ``Cluster`` would be "ready" before
PostgreSQL accepts a connection, and what depends on it would start too early.  Flux evaluates
``inProgress``, then ``failed``, then ``current``: the first that is true wins, none means in
progress, and an error (a field that is not there yet) stalls the check until the timeout
(fluxcd/flux2 rfcs/0009-custom-health-checks).  So every field is guarded with ``has()``, and a
failure is said as soon as the operator reports one.

Each check cites where its states come from: the operators' own sources at the pinned tags.
"""
from __future__ import annotations

from typing import NamedTuple


class Check(NamedTuple):
    api_version: str
    kind: str
    current: str
    failed: str = ""
    in_progress: str = ""

    def expression(self) -> dict[str, str]:
        """The item of a Flux Kustomization's ``spec.healthCheckExprs``."""
        item = {"apiVersion": self.api_version, "kind": self.kind}
        if self.in_progress:
            item["inProgress"] = self.in_progress
        if self.failed:
            item["failed"] = self.failed
        item["current"] = self.current
        return item


def _condition(kind: str, status: str) -> str:
    return (f"has(status.conditions) && status.conditions.exists(c, c.type == '{kind}' && c.status == '{status}')")


def _state(field: str, *values: str) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"has(status.{field}) && status.{field} in [{listed}]"


READY = _condition("Ready", "True")
NOT_READY = _condition("Ready", "False")

CHECKS = (
    # CloudNativePG 1.30.0 api/v1/cluster_types.go: ConditionClusterReady "Ready"; the phases it
    # cannot leave without a person (PhaseUnrecoverable, PhaseCannotCreateClusterObjects,
    # PhaseUnknownPlugin, PhaseImageCatalogError, PhaseArchitectureBinaryMissing).
    Check("postgresql.cnpg.io/v1", "Cluster", READY, failed=_state(
        "phase",
        "Cluster is unrecoverable and needs manual intervention",
        "Unable to create required cluster objects",
        "Cluster cannot proceed to reconciliation due to an unknown plugin being required",
        "Cluster has incomplete or invalid image catalog",
        "Cluster cannot execute instance online upgrade due to missing architecture binary",
    )),
    # api/v1/pooler_types.go: PoolerPhaseActive "active", PoolerPhasePaused "paused" (on purpose),
    # PoolerPhaseFailed "failed"; "inactive" waits for its cluster.
    Check("postgresql.cnpg.io/v1", "Pooler", _state("phase", "active", "paused"), failed=_state("phase", "failed")),
    # api/v1/database_types.go DatabaseStatus: applied, message, observedGeneration.
    Check("postgresql.cnpg.io/v1", "Database", "has(status.applied) && status.applied == true",
          failed="has(status.applied) && status.applied == false"),
    # api/v1/scheduledbackup_types.go: lastCheckTime once the schedule is taken in, error if not.
    Check("postgresql.cnpg.io/v1", "ScheduledBackup", "has(status.lastCheckTime)",
          failed="has(status.error) && status.error != ''"),
    # An on-demand backup is ready once the operator took it up: waiting for a long backup to
    # finish would hold the unit's sync.  api/v1/backup_types.go BackupPhase.
    Check("postgresql.cnpg.io/v1", "Backup", _state("phase", "started", "running", "finalizing", "completed"),
          failed=_state("phase", "failed", "walArchivingFailing", "invalid backup definition")),
    # plugin-barman-cloud: an ObjectStore is a configuration, with no state to wait for.
    Check("barmancloud.cnpg.io/v1", "ObjectStore", "true"),
    # Percona XtraDB Cluster operator pkg/apis/pxc/v1/pxc_types.go AppState: "ready", "error",
    # "initializing", "paused", "stopping"; pxc_prestore_types.go RestoreState.
    Check("pxc.percona.com/v1", "PerconaXtraDBCluster", _state("state", "ready"), failed=_state("state", "error")),
    # pxc_backup_types.go PXCBackupState: "", "Suspended", "Starting", "Running", "Failed", "Succeeded".
    Check("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", _state("state", "Starting", "Running", "Succeeded"),
          failed=_state("state", "Failed")),
    Check("pxc.percona.com/v1", "PerconaXtraDBClusterRestore", _state("state", "Succeeded"), failed=_state("state", "Failed")),
    # Percona Server for MongoDB operator 1.22.0 pkg/apis/psmdb/v1/psmdb_types.go AppState;
    # perconaservermongodbrestore_types.go RestoreState ("ready", "error", "rejected").
    Check("psmdb.percona.com/v1", "PerconaServerMongoDB", _state("state", "ready"), failed=_state("state", "error")),
    # perconaservermongodbbackup_types.go BackupState: "", "waiting", "requested", "running", "error", "ready".
    Check("psmdb.percona.com/v1", "PerconaServerMongoDBBackup", _state("state", "requested", "running", "ready"),
          failed=_state("state", "error")),
    Check("psmdb.percona.com/v1", "PerconaServerMongoDBRestore", _state("state", "ready"),
          failed=_state("state", "error", "rejected")),
    # Strimzi 1.2.0: a Ready condition on Kafka, KafkaTopic and KafkaUser (False when NotReady);
    # a KafkaNodePool reports its replicas (api/.../nodepool/KafkaNodePoolStatus.java).
    Check("kafka.strimzi.io/v1", "Kafka", READY, failed=NOT_READY),
    Check("kafka.strimzi.io/v1", "KafkaNodePool", "has(status.replicas) && status.replicas == spec.replicas"),
    Check("kafka.strimzi.io/v1", "KafkaTopic", READY, failed=NOT_READY),
    Check("kafka.strimzi.io/v1", "KafkaUser", READY, failed=NOT_READY),
    # External Secrets Operator: Ready True once the Secret is synced, False (SecretSyncedError) if not.
    Check("external-secrets.io/v1", "ExternalSecret", READY, failed=NOT_READY),
    # Flux helm-controller: Ready; Stalled when it gives up (retries exhausted).
    Check("helm.toolkit.fluxcd.io/v2", "HelmRelease", READY, failed=_condition("Stalled", "True")),
)
BY_KIND = {(check.api_version, check.kind): check for check in CHECKS}


def expressions(kinds: set[tuple[str, str]]) -> list[dict[str, str]]:
    """The health checks of the custom kinds among ``kinds`` ((apiVersion, kind)), in a stable order."""
    return [check.expression() for check in CHECKS if (check.api_version, check.kind) in kinds]


# Argo CD (pinned: 3.1) health checks in Lua, for the kinds whose built-in check is missing
# (resource_customizations/ at v3.1.16 has none for these) or wrong: its CNPG Cluster check calls
# a planned major upgrade, a switchover or new settings Degraded.  Each is
# templates/gitops/health/<group>_<Kind>.lua, the key of argocd-cm's
# resource.customizations.health.<group>_<Kind>.
ARGOCD_LUA = (
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "Pooler"),
    ("postgresql.cnpg.io/v1", "Database"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    ("postgresql.cnpg.io/v1", "Backup"),
    ("barmancloud.cnpg.io/v1", "ObjectStore"),
    ("kafka.strimzi.io/v1", "KafkaNodePool"),
    ("pxc.percona.com/v1", "PerconaXtraDBClusterBackup"),
    ("pxc.percona.com/v1", "PerconaXtraDBClusterRestore"),
    ("psmdb.percona.com/v1", "PerconaServerMongoDBBackup"),
    ("psmdb.percona.com/v1", "PerconaServerMongoDBRestore"),
)


def argocd_scripts(kinds: set[tuple[str, str]]) -> list[str]:
    """The ``<group>_<Kind>`` of each Lua check that ``kinds`` need, in a stable order."""
    return [f"{api_version.split('/')[0]}_{kind}" for api_version, kind in ARGOCD_LUA if (api_version, kind) in kinds]
