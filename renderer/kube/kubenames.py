"""The names the API server and the operators accept, which no schema says.

Objects are named after catalog entries, and the operators name what they create after those
objects: a name that fits its own field can still make a Service, a pod's host name or a label
that the cluster refuses, after the sync, one object at a time.  ``problems`` says so before.
"""
from __future__ import annotations

import re
from hashlib import sha256
from typing import Any, Callable, Iterator, NamedTuple

from renderer.catalog.schema import DNS_LABEL_RE, DNS_SUBDOMAIN_RE, LABEL_NAME_RE, LABEL_VALUE_RE

# The forms the catalog's schema checks, for what the objects derive from its names.
DNS_LABEL = re.compile(DNS_LABEL_RE)
DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(DNS_SUBDOMAIN_RE)
LABEL_VALUE = re.compile(LABEL_VALUE_RE)
QUALIFIED_NAME = re.compile(LABEL_NAME_RE)
MAX_FILE_NAME = 255  # bytes of one file name (NAME_MAX of Linux and macOS file systems)


class Form(NamedTuple):
    pattern: re.Pattern[str]
    length: int
    what: str

    def fits(self, value: str) -> bool:
        return len(value) <= self.length and bool(self.pattern.fullmatch(value))


SUBDOMAIN = Form(DNS_SUBDOMAIN, 253, "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')")
LABEL = Form(DNS_LABEL, 63, "a DNS-1123 label (lower-case letters, digits and '-')")
LABEL_1035 = Form(DNS_1035, 63, "a DNS-1035 label (lower-case letters, digits and '-', beginning with a letter)")


class Problem(NamedTuple):
    field: str  # in the object: metadata.name, metadata.labels.<key>, or what the operator names after it
    value: str
    reason: str  # "is not ...": what it must be, and whose rule it is
    excess: int  # characters too many (0: the form is wrong, not the length)


def _check(field: str, value: str, form: Form, whose: str = "") -> Iterator[Problem]:
    if not form.fits(value):
        rule = f"{form.what[:-1]}, at most {form.length} characters)" if form.what.endswith(")") else form.what
        yield Problem(field, value, f"is not {rule}{whose}", max(0, len(value) - form.length))


# Kinds whose names have a rule beyond a subdomain of 253, and what their operators name after
# them.  Each takes the object, and yields what does not fit.
def _service(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Kubernetes validates Service names as DNS-1035 labels (ValidateServiceName).
    yield from _check("metadata.name", name, LABEL_1035)


def _namespace(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    yield from _check("metadata.name", name, LABEL)


def _cronjob(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Kubernetes refuses CronJob names over 52 characters: its Jobs append 11 (ValidateCronJob).
    yield from _check("metadata.name", name, Form(DNS_SUBDOMAIN, 52, SUBDOMAIN.what))


def _job(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Its pods carry the label batch.kubernetes.io/job-name: <name>, a label value.
    yield from _check("metadata.name", name, LABEL)


def _statefulset(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Its pods carry controller-revision-hash: <name>-<hash of up to 10>, a label value
    # (kubernetes/kubernetes#64023), and are named <name>-<ordinal>, their host name.
    yield from _check("metadata.name", name, Form(DNS_LABEL, 52, LABEL.what))


def _cnpg_cluster(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # CloudNativePG 1.30.0 internal/webhook/v1/cluster_webhook.go validateName: its Services are
    # named after the cluster.
    yield from _check("metadata.name", name, Form(DNS_1035, 50, LABEL_1035.what), ": CloudNativePG's rule")


def _cnpg_pooler(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # CloudNativePG names the pooler's Service and Deployment after it.
    yield from _check("the Service CloudNativePG names after it", name, LABEL_1035)


def _pxc(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Percona XtraDB Cluster operator pkg/apis/pxc/v1/pxc_types.go: clusterNameMaxLen = 22.
    yield from _check("metadata.name", name, Form(DNS_LABEL, 22, LABEL.what), ": the Percona XtraDB Cluster operator's rule")


def _psmdb(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Percona Server for MongoDB operator 1.22.0 pkg/apis/psmdb/v1/psmdb_defaults.go: the cluster's
    # name and each replica set's (rs0, cfg) together at most clusterNameMaxLen = 50.
    spec = obj.get("spec") or {}
    replsets = [str(r.get("name", "")) for r in spec.get("replsets") or [] if isinstance(r, dict)]
    if ((spec.get("sharding") or {}).get("enabled")):
        replsets.append("cfg")
    longest = max(replsets, key=len, default="")
    yield from _check("metadata.name", name, Form(DNS_LABEL, 50 - len(longest), LABEL.what),
                      f": the Percona Server for MongoDB operator's rule (with replica set {longest!r}, at most 50 together)"
                      if longest else ": the Percona Server for MongoDB operator's rule")


def _strimzi_kafka(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Strimzi 1.2.0 api/.../KafkaResources.java: Services <cluster>-kafka-bootstrap and -kafka-brokers.
    yield from _check("the bootstrap Service Strimzi names after it", f"{name}-kafka-bootstrap", LABEL_1035)


def _strimzi_pool(obj: dict[str, Any], name: str) -> Iterator[Problem]:
    # Strimzi 1.2.0 KafkaPool.nodeRef: pods <cluster>-<pool>-<node id>, each its own host name
    # (WorkloadUtils sets hostname), a DNS label.  Node ids count every pool's nodes.
    cluster = str(((obj.get("metadata") or {}).get("labels") or {}).get("strimzi.io/cluster", ""))
    if cluster:
        replicas = (obj.get("spec") or {}).get("replicas")
        last = max(99, 2 * replicas if isinstance(replicas, int) else 0)  # room for the ids of two pools
        yield from _check("the host name Strimzi gives its pods", f"{cluster}-{name}-{last}", LABEL)


NAME_RULES: dict[tuple[str, str], Callable[[dict[str, Any], str], Iterator[Problem]]] = {
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("batch", "CronJob"): _cronjob,
    ("batch", "Job"): _job,
    ("apps", "StatefulSet"): _statefulset,
    ("postgresql.cnpg.io", "Cluster"): _cnpg_cluster,
    ("postgresql.cnpg.io", "Pooler"): _cnpg_pooler,
    ("pxc.percona.com", "PerconaXtraDBCluster"): _pxc,
    ("psmdb.percona.com", "PerconaServerMongoDB"): _psmdb,
    ("kafka.strimzi.io", "Kafka"): _strimzi_kafka,
    ("kafka.strimzi.io", "KafkaNodePool"): _strimzi_pool,
}


def problems(obj: dict[str, Any]) -> list[Problem]:
    """Names of the object (and of what its operator makes of it) that the cluster would refuse."""
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    found: list[Problem] = []
    if not isinstance(name, str):
        return [Problem("metadata.name", repr(name), "is not a name", 0)]
    if not SUBDOMAIN.fits(name):
        found += _check("metadata.name", name, SUBDOMAIN)
    namespace = metadata.get("namespace")
    if namespace is not None and not (type(namespace) is str and namespace in _NAMESPACES_OK):
        if type(namespace) is str and LABEL.fits(namespace):
            if len(_NAMESPACES_OK) < 100_000:
                _NAMESPACES_OK.add(namespace)
        else:
            found += _check("metadata.namespace", str(namespace), LABEL)
    if not found:
        kind = (str(obj.get("apiVersion", "")), str(obj.get("kind")))
        rule = _RULES_BY_KIND.get(kind, _UNKNOWN)
        if rule is _UNKNOWN:
            rule = NAME_RULES.get((kind[0].rpartition("/")[0], kind[1]))
            if len(_RULES_BY_KIND) < 100_000:
                _RULES_BY_KIND[kind] = rule
        if rule is not None:
            found += rule(obj, name)
    # Each object's labels and annotations: most keys and values were decided before (no call).
    keys_ok, values_ok = _KEYS_OK, _VALUES_OK
    for key, value in (metadata.get("labels") or {}).items():
        if not (type(key) is str and keys_ok.get(key)) and not _key_ok(key):
            found.append(_bad_key(f"metadata.labels.{key}", key))
        if not (type(value) is str and values_ok.get(value)) and not _value_ok(value):
            found.append(Problem(f"metadata.labels.{key}", str(value), "is not a label value (at most 63 characters: "
                                 "letters, digits, '-', '_' and '.', beginning and ending with a letter or digit)",
                                 max(0, len(str(value)) - 63)))
    for key in metadata.get("annotations") or {}:
        if not (type(key) is str and keys_ok.get(key)) and not _key_ok(key):
            found.append(_bad_key(f"metadata.annotations.{key}", key))
    return found


# Namespaces found to be labels; each (apiVersion, kind)'s rule: a few, in every object.
_NAMESPACES_OK: set[Any] = set()
_RULES_BY_KIND: dict[tuple[str, str], Callable[[dict[str, Any], str], Iterator[Problem]] | None] = {}
_UNKNOWN: Any = object()
# Thousands of objects carry the same few keys and values: decide each once.
_KEYS_OK: dict[Any, bool] = {}
_VALUES_OK: dict[Any, bool] = {}


def _key_ok(key: Any) -> bool:
    """A label's or annotation's key: a name of at most 63 characters, with a DNS prefix."""
    ok = _KEYS_OK.get(key)
    if ok is None:
        prefix, _, name = str(key).rpartition("/")
        ok = (not prefix or SUBDOMAIN.fits(prefix)) and len(name) <= 63 and bool(QUALIFIED_NAME.fullmatch(name))
        if isinstance(key, str) and len(_KEYS_OK) < 100_000:
            _KEYS_OK[key] = ok
    return ok


def _value_ok(value: Any) -> bool:
    ok = _VALUES_OK.get(value) if isinstance(value, str) else False
    if ok is None:
        ok = len(value) <= 63 and bool(LABEL_VALUE.fullmatch(value))
        if len(_VALUES_OK) < 100_000:
            _VALUES_OK[value] = ok
    return ok


def _bad_key(field: str, key: Any) -> Problem:
    return Problem(field, str(key), "is not a key (an optional DNS-subdomain prefix and '/', then at most 63 "
                                    "characters: letters, digits, '-', '_' and '.')", 0)


def file_name(kind: str, name: str) -> str:
    """``<kind>-<name>.yaml``, shortened with a digest of the name where it would not fit a file
    system's file name (a KafkaTopic's name may be 249 characters long)."""
    full = f"{kind.lower()}-{name}.yaml"
    if len(full.encode()) <= MAX_FILE_NAME:
        return full
    digest = sha256(name.encode()).hexdigest()[:16]
    keep = MAX_FILE_NAME - len(f"{kind.lower()}--{digest}.yaml".encode())
    return f"{kind.lower()}-{name[:keep]}-{digest}.yaml"
