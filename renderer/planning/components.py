"""The vocabulary of planning: components, units, sync waves, and what engines share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, NamedTuple

from renderer.planning.locations import STORE_SECRET_KEYS, store_kind

# Sync waves: namespaces, then configuration and secrets, clusters, then what uses a cluster.
WAVE_NAMESPACE = -2
WAVE_CONFIG = -1
WAVE_CLUSTER = 0
WAVE_DEPENDENT = 1

# The (apiVersion, kind) a template writes, when it says.
KindOf = Callable[[str], "tuple[str, str] | None"]

@dataclass(frozen=True)
class Fleet:
    """What every entry's plan may need beyond the entry itself."""

    name: str
    env: str
    stores: dict[str, dict[str, Any]]
    secrets: dict[str, Any] | None
    cluster_domain: str = "cluster.local"


class Component(NamedTuple):  # (made 9,000 times for 1,000 clusters: a third of a frozen dataclass's time)
    template: str
    context: dict[str, Any]
    component: str  # app.kubernetes.io/component
    wave: int
    holds_data: bool = False
    # Not an object to apply but a file, written as is at this path in the unit's folder (JSON
    # if it ends in .json): a kustomize Component for the user's own kustomization, a parameter
    # file of an ApplicationSet.  No labels; no resource of the unit's kustomization.
    file: str | None = None


@dataclass(frozen=True)
class Unit:
    """One folder of output: an entry in a namespace, a namespace itself, or the gitops objects."""

    folder: tuple[str, ...]
    app: str  # app.kubernetes.io/name
    instance: str  # app.kubernetes.io/instance
    components: tuple[Component, ...]
    # The catalog entry it comes from (("clusters", 0)), or the section (("proxy", None)): where
    # a problem of its objects is reported.
    source: tuple[str, int | None] = ("", None)
    # The Kubernetes clusters it is delivered to (None: where the GitOps engine runs), and the
    # folders of other units it needs ready first (besides its namespace).
    targets: tuple[str | None, ...] = (None,)
    needs: tuple[tuple[str, ...], ...] = ()
    # A unit the cache holds rendered: not planned again (no components), its key and what GitOps reads.
    cached: Cached | None = None

    def delivered(self) -> Delivered:
        return self.cached.delivered if self.cached else Delivered.of(self.components)


@dataclass(frozen=True)
class Delivered:
    """What the GitOps objects read of a unit's components: the templates of the objects it
    applies (their kinds, for health checks), and whether any component holds data."""

    templates: tuple[str, ...]
    holds_data: bool

    @classmethod
    def of(cls, components: tuple[Component, ...]) -> Delivered:
        return cls(tuple(c.template for c in components if c.file is None), any(c.holds_data for c in components))


@dataclass(frozen=True)
class Cached:
    """A catalog entry's unit as the unit cache holds it: its key there, and what GitOps reads."""

    key: str
    delivered: Delivered



def settings(values: dict[str, Any] | None) -> dict[str, str]:
    """Server settings as strings, as the operators want them; booleans read best as on/off."""
    out = {}
    for key, value in (values or {}).items():
        out[key] = ("on" if value else "off") if isinstance(value, bool) else str(value)
    return out


def guaranteed(resources: dict[str, Any]) -> dict[str, Any] | None:
    """Requests equal to limits: the Guaranteed QoS class the database operators recommend."""
    amounts = {k: str(v) for k, v in resources.items() if v is not None}
    return {"requests": amounts, "limits": amounts} if amounts else None


# An on-demand backup is created once: Flux never re-applies it (ssa: IfNotPresent); with the
# protection of objects that hold data, neither engine prunes it once the catalog moves on.
CREATE_ONCE = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}


def on_demand_backup(template: str, cluster: dict[str, Any], **context: Any) -> Iterator[Component]:
    """The operator's backup object for ``backup.onDemand`` of a cluster."""
    backup = cluster["backup"]
    if backup["onDemand"] and backup["method"] == "native":
        yield Component(template, {"name": f"{cluster['name']}-{backup['onDemand']}", "namespace": cluster["namespace"],
                                   "cluster": cluster["name"], "annotations": CREATE_ONCE, **context},
                        "backup", WAVE_DEPENDENT, holds_data=True)


RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` writes on a pod template


def restart_annotations(cluster: dict[str, Any]) -> dict[str, str]:
    """Pod annotations that change when the catalog asks for a restart (restartedAt)."""
    return {RESTARTED_AT: cluster["restartedAt"]} if cluster["restartedAt"] else {}


def tolerations(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """Normalisation filled every toleration field; Kubernetes wants only those given."""
    return [{k: v for k, v in t.items() if v is not None} for t in cluster["scheduling"]["tolerations"]]


def secret_volume(name: str, secret: str, *keys: str, **extra: Any) -> dict[str, Any]:
    """A volume of the named keys of a Secret, each a file of its name: only what is read is
    mounted, and ``dbfleet secrets`` can say which keys a Secret needs."""
    return {"name": name, "secret": {"secretName": secret, "items": [{"key": key, "path": key} for key in keys], **extra}}


def owner(database: dict[str, Any]) -> str:
    """A database without an owner gets a role of its own name, never the superuser."""
    return str(database["owner"] or database["name"])


def role_secret(cluster: str, role: str) -> str:
    return f"{cluster}-{role.replace('_', '-')}"


def role_secrets(fleet: Fleet, namespace: str, cluster: str, roles: list[str], reload: bool = False) -> Iterator[Component]:
    """With External Secrets, the Secrets that hold the roles' passwords; never the passwords.
    ``reload``: label them for the operator to apply a rotation at once (CloudNativePG)."""
    if not fleet.secrets or fleet.secrets["provider"] != "external-secrets":
        return
    for role in roles:
        yield Component(
            "common/role-externalsecret.yaml.j2",
            {
                "namespace": namespace,
                "secret_name": role_secret(cluster, role),
                "store": fleet.secrets["store"],
                "role": role,
                "remote_key": f"{fleet.name}/{fleet.env}/{cluster}/{role}",
                "reload": reload,
            },
            "credentials",
            WAVE_CONFIG,
            holds_data=True,
        )


def proxy_routes(cluster: dict[str, Any]) -> tuple[bool, ...]:
    """The routes xdatabase-proxy has to a cluster: direct (False), through its pooler (True).
    The proxy (v2.0.0) dials in plain TCP: a TLS-only cluster is reached through its pooler alone,
    which connects to it with TLS."""
    direct: tuple[bool, ...] = () if cluster["tls"]["enabled"] else (False,)
    return direct + ((True,) if cluster["pooler"]["enabled"] else ())


def proxy_services(
    cluster: dict[str, Any],
    database_type: str,
    port: int,
    direct: dict[str, str],
    pooled: dict[str, str] | None,
) -> Iterator[Component]:
    """Services labelled for xdatabase-proxy, one per route (``proxy_routes``)."""
    if not cluster["proxy"]["enabled"]:
        return
    name = cluster["name"]
    services = [(f"{name}-pooler-proxy", pooled, True) if through_pooler else (f"{name}-proxy", direct, False)
                for through_pooler in proxy_routes(cluster)]
    for service_name, selector, is_pooled in services:
        yield Component(
            "common/proxy-service.yaml.j2",
            {
                "namespace": cluster["namespace"],
                "service_name": service_name,
                "deployment_id": cluster["proxy"]["deploymentId"] or name,
                "database_type": database_type,
                "pooled": is_pooled,
                "selector": selector,
                "port": port,
                "port_name": database_type,
            },
            "proxy",
            WAVE_DEPENDENT,
        )


Credentials = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]  # env, volumes, mounts


def store_credentials(store: dict[str, Any], names: dict[str, str], gcs_folder: str) -> Credentials:
    """What hands a store's credentialsSecret to a program, under the names it reads: ``names``
    maps the Secret's keys (STORE_SECRET_KEYS) to environment variables; GCS's key file is
    mounted in ``gcs_folder`` and named by ``names["file"]``.  Nothing for an identity or a volume."""
    env: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    kind = store_kind(store)
    secret = store[kind].get("credentialsSecret") if kind in STORE_SECRET_KEYS else None
    if not secret:
        return env, volumes, mounts
    if kind == "gcs":
        key_file = STORE_SECRET_KEYS["gcs"]["file"]
        env.append({"name": names["file"], "value": f"{gcs_folder}/{key_file}"})
        volumes.append(secret_volume("gcs-credentials", secret, key_file))
        mounts.append({"name": "gcs-credentials", "mountPath": gcs_folder, "readOnly": True})
        return env, volumes, mounts
    env += [{"name": names[key], "valueFrom": {"secretKeyRef": {"name": secret, "key": secret_key}}}
            for key, secret_key in STORE_SECRET_KEYS[kind].items() if key in names]
    return env, volumes, mounts
