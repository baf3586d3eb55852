"""Output validation against the pinned CRD schemas and strict Kubernetes schemas."""
from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renderer import emit
from renderer.errors import DbfleetError
from renderer.rendering.render import RenderedObject
from renderer.rules.secrets import may_hold_secret, may_hold_secrets
from renderer.validate import Validators, _secret_problems, is_core


def messages(validators: Validators, data: dict[str, Any]) -> list[str]:
    return [p.message for p in validators.problems(RenderedObject("x.yaml", data))]


def service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
            "spec": {"ports": [{"port": 5432}], **spec}}


@pytest.mark.parametrize(
    ("api_version", "core"),
    [("v1", True), ("apps/v1", True), ("rbac.authorization.k8s.io/v1", True),
     ("postgresql.cnpg.io/v1", False), ("argoproj.io/v1alpha1", False)],
)
def test_core_kinds_are_told_from_crds(api_version: str, core: bool) -> None:
    assert is_core(api_version) is core


def test_core_kinds_are_strict() -> None:
    validators = Validators()
    assert messages(validators, service()) == []
    assert messages(validators, service(selectr={"a": "b"})) == [
        "Service/s: spec: Additional properties are not allowed ('selectr' was unexpected)"
    ]


def test_crds_are_strict() -> None:
    validators = Validators()
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "c"},
               "spec": {"instances": "3", "storage": {"size": "1Gi"}, "imagename": "x"}}
    assert sorted(messages(validators, cluster)) == [
        "Cluster/c: spec.instances: '3' is not of type 'integer'",
        "Cluster/c: spec: Additional properties are not allowed ('imagename' was unexpected)",
    ]


def test_a_missing_schema_is_an_error_unless_ignored(tmp_path: Path) -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    validators = Validators([str(tmp_path)])
    assert validators.validate([RenderedObject("a.yaml", obj), RenderedObject("b.yaml", obj)]) == []
    assert [str(p) for p in validators.missing_problems()] == [
        "a.yaml: error: no schema for Widget example.com/v1: not among the schemas embedded in dbfleet "
        f"(looked in {tmp_path}/example.com/widget_v1.json); give --schema-location; "
        "objects of this kind are not validated (or give --ignore-missing-schemas)"
    ]
    ignoring = Validators([str(tmp_path)], ignore_missing=True)
    assert ignoring.validate([RenderedObject("a.yaml", obj)]) == ignoring.missing_problems() == []


CLUSTER = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "c"},
           "spec": {"instances": 1, "storage": {"size": "1Gi"}}}
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
STRICT_WIDGET = {"type": "object", "properties": {"spec": {"properties": {"size": {"type": "string"}}}}}


def test_the_embedded_schemas_need_no_option() -> None:
    validators = Validators()
    assert messages(validators, CLUSTER) == []
    assert messages(validators, {**CLUSTER, "spec": {"instances": "1"}}) == ["Cluster/c: spec.instances: '1' is not of type 'integer'"]
    assert validators.missing_problems() == []


def test_a_users_folder_is_searched_before_the_embedded_schemas(tmp_path: Path) -> None:
    (tmp_path / "postgresql.cnpg.io").mkdir()
    (tmp_path / "postgresql.cnpg.io" / "cluster_v1.json").write_text('{"required": ["status"]}')
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "widget_v1.json").write_text(json.dumps(STRICT_WIDGET))
    validators = Validators([str(tmp_path)])
    assert messages(validators, CLUSTER) == ["Cluster/c: (root): 'status' is a required property"]
    assert messages(validators, WIDGET) == ["Widget/w: spec.size: 1 is not of type 'string'"]
    assert messages(validators, service()) == []  # not in the folder: core kinds as ever


@pytest.mark.parametrize("option", ["--schema-location", "--chart-schema-location"])
def test_a_location_that_does_not_exist_is_bad_input(tmp_path: Path, option: str) -> None:
    missing = str(tmp_path / "schemas")
    with pytest.raises(DbfleetError) as caught:
        Validators(**{"schema_locations" if option == "--schema-location" else "chart_schema_locations": [missing]})
    assert caught.value.exit_code == 2
    fields = "{group}, {kind}, {version}" if option == "--schema-location" else "{chart}, {version}"
    assert [str(p) for p in caught.value.problems] == [f"{option}: error: {missing!r} is not a folder, nor a URL template with {fields}"]


def test_a_template_with_a_field_the_layout_lacks_is_bad_input() -> None:
    with pytest.raises(DbfleetError) as caught:
        Validators(["https://example.com/{group}/{name}.json"])
    assert [str(p) for p in caught.value.problems] == [
        "--schema-location: error: 'https://example.com/{group}/{name}.json': a template may use only {group}, {kind}, "
        "{version}, not {name}"
    ]


class _Schemas(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` by path; ``/slow/`` never answers in time; anything else is a 404."""

    files: dict[str, tuple[int, bytes]] = {}
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        self.requests.append(self.path)
        if self.path.startswith("/slow/"):
            time.sleep(1)
        status, body = self.files.get(self.path, (404, b"not found"))
        try:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)
        except BrokenPipeError:  # the client gave up waiting
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A schema server on loopback, stopped after the test."""
    _Schemas.files = {"/crds/example.com/widget_v1.json": (200, json.dumps(STRICT_WIDGET).encode()),
                      "/broken/example.com/widget_v1.json": (500, b"oops")}
    _Schemas.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Schemas)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


TEMPLATE = "/{group}/{kind}_{version}.json"


def test_a_url_template_is_fetched_once_and_cached(server: str, schema_cache: Path) -> None:
    validators = Validators([server + "/crds" + TEMPLATE])
    assert messages(validators, WIDGET) == ["Widget/w: spec.size: 1 is not of type 'string'"]
    assert messages(validators, CLUSTER) == []  # a 404 there: the embedded schema
    assert _Schemas.requests == ["/crds/example.com/widget_v1.json", "/crds/postgresql.cnpg.io/cluster_v1.json"]
    assert len(list(schema_cache.iterdir())) == 2  # the schema, and what the server did not have
    _Schemas.requests.clear()
    again = Validators([server + "/crds" + TEMPLATE])
    assert messages(again, WIDGET) == ["Widget/w: spec.size: 1 is not of type 'string'"]
    assert messages(again, CLUSTER) == []
    assert _Schemas.requests == [], "a second run needs no network"


def test_a_schema_found_nowhere_names_the_url(server: str) -> None:
    url = server + "/none" + TEMPLATE
    validators = Validators([url])
    assert messages(validators, WIDGET) == []
    assert [p.message for p in validators.missing_problems()] == [
        "no schema for Widget example.com/v1: not among the schemas embedded in dbfleet (looked in "
        f"{server}/none/example.com/widget_v1.json); give --schema-location; objects of this kind are not "
        "validated (or give --ignore-missing-schemas)"
    ]


@pytest.mark.parametrize("where", ["broken", "slow", "closed"])
def test_a_url_that_cannot_be_fetched_says_why_and_is_never_skipped(server: str, where: str) -> None:
    base = f"http://127.0.0.1:{_closed_port()}" if where == "closed" else f"{server}/{where}"
    validators = Validators([base + TEMPLATE], ignore_missing=True, fetch_timeout=0.3)
    assert messages(validators, WIDGET) == []
    assert messages(validators, CLUSTER) == []
    problems = [p.message for p in validators.missing_problems()]
    reason = {"broken": "HTTP 500 Internal Server Error", "slow": "timed out", "closed": "Connection refused"}[where]
    assert problems[0].startswith(f"cannot fetch {base}/example.com/widget_v1.json: ")
    assert reason in problems[0]
    assert problems[0].endswith("; objects of this kind are not validated")
    # Only the Widget failed on the server; a host that cannot be reached fails every kind, and is
    # asked once, not once per kind.
    assert len(problems) == (1 if where == "broken" else 2)
    assert len(_Schemas.requests) == {"broken": 2, "slow": 1, "closed": 0}[where]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metadata_is_checked_as_the_api_server_would() -> None:
    obj = service()
    obj["metadata"] = {"name": "Bad_Name", "namespace": "n", "labels": {"a": "x" * 64}}
    assert messages(Validators(), obj) == [
        "Service/Bad_Name: metadata.name: 'Bad_Name' is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
        "at most 253 characters)",
        f"Service/Bad_Name: metadata.labels.a: {'x' * 64!r} is not a label value (at most 63 characters: letters, digits, "
        "'-', '_' and '.', beginning and ending with a letter or digit)",
    ]


def test_one_compiled_validator_per_schema() -> None:
    validators = Validators()
    first = validators.validator("postgresql.cnpg.io/v1", "Cluster")
    assert validators.validator("postgresql.cnpg.io/v1", "Cluster") is first
    assert validators.validator("v1", "Service") is validators.validator("v1", "Service")


def test_an_unknown_kubernetes_version_is_reported() -> None:
    validators = Validators([], kube_version="1.10")
    assert messages(validators, service()) == []
    assert [p.message for p in validators.missing_problems()] == [
        "kubernetes-validate has no schemas for Kubernetes 1.10; objects of this kind are not validated "
        "(or give --ignore-missing-schemas)"
    ]


def _crd(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "n"}, "spec": spec}


@pytest.mark.parametrize(("obj", "expected"), [
    # has(): two ways to say one thing
    (_crd("postgresql.cnpg.io/v1", "Cluster", {"instances": 1, "imageName": "a:1", "storage": {"size": "1Gi"},
                                                "imageCatalogRef": {"apiGroup": "postgresql.cnpg.io", "kind": "ImageCatalog", "name": "c", "major": 16}}),
     "Cluster/x: spec: imageName and imageCatalogRef are mutually exclusive [CEL rule]"),
    # a scalar compared
    (_crd("postgresql.cnpg.io/v1", "Database", {"name": "postgres", "owner": "app", "cluster": {"name": "c"}}),
     "Database/x: spec.name: the name postgres is reserved [CEL rule]"),
    # matches()
    (_crd("pxc.percona.com/v1", "PerconaXtraDBClusterRestore", {"pxcCluster": "c", "backupName": "b", "pitr": {"type": "date", "date": "2026-11-20T10:30:00Z", "backupSource": {"storageName": "s"}}}),
     "PerconaXtraDBClusterRestore/x: spec.pitr: Date is required for type 'date' and should be in format YYYY-MM-DD "
     "HH:MM:SS with valid ranges (MM: 01-12, DD: 01-31, HH: 00-23, MM/SS: 00-59) [CEL rule]"),
    # exists() and startsWith()
    (_crd("barmancloud.cnpg.io/v1", "ObjectStore", {"configuration": {"destinationPath": "s3://b/p"},
                                                    "instanceSidecarConfiguration": {"additionalContainerArgs": ["--log-level=debug"]}}),
     "ObjectStore/x: spec.instanceSidecarConfiguration.additionalContainerArgs: do not set --log-level in "
     "additionalContainerArgs; use spec.instanceSidecarConfiguration.logLevel [CEL rule]"),
    # all() and filter()
    (_crd("postgresql.cnpg.io/v1", "ImageCatalog", {"images": [{"major": 16, "image": "a:16.1"}, {"major": 16, "image": "a:16.2"}]}),
     "ImageCatalog/x: spec.images: Images must have unique major versions [CEL rule]"),
    # the Kubernetes library: quantity(), sign(), compareTo()
    (_crd("ps.percona.com/v1", "PerconaServerMySQL", {"storageScaling": {"autoscaling": {"growthStep": "1Gi", "maxSize": "512Mi"}}}),
     "PerconaServerMySQL/x: spec.storageScaling.autoscaling.maxSize: maxSize should be at least 1Gi [CEL rule]"),
    # isURL()
    (_crd("psmdb.percona.com/v1", "PerconaServerMongoDB", {"image": "psmdb:8", "vault": {"endpointURL": "vault:8200"}}),
     "PerconaServerMongoDB/x: spec.vault.endpointURL: endpointURL must be a valid URL [CEL rule]"),
])
def test_the_crds_cel_rules_are_evaluated(obj: dict[str, Any], expected: str) -> None:
    problems = Validators().problems(RenderedObject("prod/n/x/thing.yaml", obj))
    assert expected in [p.message for p in problems]
    assert all(p.mark.file == "prod/n/x/thing.yaml" for p in problems)


def test_transition_rules_are_skipped_and_every_other_rule_is_compiled() -> None:
    from renderer.schemas import EMBEDDED_CRDS
    from renderer.schemas.cel import CelRules, Outcomes
    from renderer.schemas.celeval import program

    written = rules = 0
    for path in sorted(EMBEDDED_CRDS.rglob("*.json")):
        text = path.read_text()
        written += text.count('"x-kubernetes-validations"') and len(re.findall(r'"rule": ', text))
        found = CelRules(json.loads(text), Outcomes())
        for rule in found.rules:
            assert "oldSelf" not in rule.rule
            program(rule.rule)  # compiles: every rule parses with the functions provided
        rules += len(found.rules)
    assert (written, rules) == (106, 89)  # the 17 transition rules (oldSelf) need the stored object


def test_a_first_run_loads_the_shipped_cel_parser_and_builds_none(tmp_path: Path) -> None:
    """renderer/schemas/cel-parser.lark is the parser the pinned Lark builds from celpy's grammar:
    with an empty user cache (a new user, every CI runner) it is loaded, and no grammar is built.
    When this fails after a Lark upgrade, build it again:
    python -c 'from renderer.schemas.celeval import *; SHIPPED_PARSER.unlink(); build_parser(SHIPPED_PARSER)'"""
    import os
    import subprocess
    import sys

    from renderer.schemas.celeval import SHIPPED_PARSER

    probe = ("import lark.lark\n"
             "def refuse(*args, **kwargs):\n    raise SystemExit('the CEL grammar was built')\n"
             "lark.lark.load_grammar = refuse\n"
             "from celpy.celparser import CELParser\n"
             "from renderer.schemas.celeval import outcome\n"
             "print(CELParser.CEL_PARSER is not None, outcome(\"self.size() < 3\", 'abcd'))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr
    kept = (tmp_path / "dbfleet" / "cel-parser.lark").read_bytes()  # keyed for where it is kept
    assert kept.split(b"\n", 1)[1] == SHIPPED_PARSER.read_bytes().split(b"\n", 1)[1]


@pytest.mark.parametrize("rule", ["self != 'postgres'", "self == 'postgres'", 'self != "template0"', " self==''"])
@pytest.mark.parametrize("node", ["postgres", "template0", "", "Postgres", "postgres ", "é", 5, None, True, ["postgres"],
                                  {"a": "postgres"}])
def test_string_comparisons_checked_without_cel_python_agree_with_it(rule: str, node: Any) -> None:
    """The direct check covers strings only; any other node goes to cel-python."""
    from renderer.schemas.cel import _direct
    from renderer.schemas.celeval import outcome

    direct = _direct(rule, node)
    assert direct is None if not isinstance(node, str) else direct == outcome(rule, node)


def _mutations(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The object broken in the ways a template or a --templates override breaks one."""
    yield {**obj, "spec": {**(obj.get("spec") or {}), "bogusField": True}}  # an unknown key
    yield {**obj, "metadata": {**obj["metadata"], "name": 5}}  # a wrong type
    yield {**obj, "spec": "not an object"}
    spec = obj.get("spec") or {}
    for key, value in spec.items():
        if isinstance(value, str):
            yield {**obj, "spec": {**spec, key: ["a", "list"]}}
        elif isinstance(value, int) and not isinstance(value, bool):
            yield {**obj, "spec": {**spec, key: -(10**12)}}
        elif isinstance(value, dict):
            yield {**obj, "spec": {**spec, key: {**value, "notInTheSchema": {"x": 1}}}}


def test_the_fast_validator_and_the_explaining_one_agree(example_bundle: Any) -> None:
    """jsonschema-rs decides alone when an object is valid: it must never pass what jsonschema
    refuses, on every rendered kind, whole and broken."""
    validators = Validators()
    checked = 0
    for rendered in example_bundle.objects:
        obj = rendered.data
        compiled = validators.validator(obj["apiVersion"], obj["kind"])
        assert not isinstance(compiled, Exception) and compiled.fast is not None
        for document in (obj, *_mutations(obj)):
            assert compiled.fast.is_valid(document) == (not list(compiled.slow.iter_errors(document))), (
                obj["kind"], document)
            checked += 1
    assert checked > 1000


# Words a secret is found by, the characters around them, and anything else.
_PIECES = st.sampled_from(["password", "PassWd", "pwd", "passphrase", "client-secret", "secret_key", "api_key", "token",
                           "Private-Key", "privatekey", "secret-access_key", "apikey", "API-key", "passw", "pwd=",
                           "secret", ".", "_", "-", "=", " = ", "\t", "\n", "\u2028", "\x85", "\u3000", "\x1c", ":", "://",
                           "u:p@", "@", "h/x", '"', "'", "x", "$",
                           "pa\u017f\u017fword", "api_\u212aey", "pr\u0130vate_key", "TOKEN", "Secret"])
_TEXT = st.one_of(st.lists(_PIECES, max_size=6).map("".join), st.text(max_size=12))
_OBJECTS = st.recursive(_TEXT, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(_TEXT, inner, max_size=3)), max_leaves=8)


@given(_OBJECTS)
def test_an_object_whose_yaml_looks_clean_holds_no_secret(value: object) -> None:
    """The walk over an object's strings is skipped when its YAML holds none of what it finds."""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": value}
    if list(_secret_problems(obj)):
        assert may_hold_secret(emit.dump(obj).encode())


@given(st.lists(_OBJECTS, max_size=5))
def test_objects_looked_at_together_are_found_as_each_alone(values: list[object]) -> None:
    """A unit's objects are searched in one text: what is found in it is what each object's own
    search finds (no match runs from one object into the next, the first's start included)."""
    contents = [emit.dump({"data": value}).encode() for value in values]
    contents += [b"secret: x\n", b"x: y\n"]  # a key at an object's very start, and one with nothing
    assert may_hold_secrets(contents) == [may_hold_secret(content) for content in contents]


def test_a_reference_under_a_secrets_name_is_not_walked() -> None:
    """CloudNativePG's ObjectStore names its key Secrets under secretAccessKey: every one of
    1,000 objects, none with a secret in it."""
    reference = {"s3Credentials": {"secretAccessKey": {"name": "s3-creds", "key": "secret"}}}
    assert not may_hold_secret(emit.dump({"spec": reference}).encode())
    assert may_hold_secret(emit.dump({"spec": {"secretAccessKey": "x"}}).encode())


def _cel_rules() -> list[str]:
    from renderer.schemas import EMBEDDED_CRDS
    from renderer.schemas.cel import CelRules, Outcomes

    return sorted({rule.rule for path in sorted(EMBEDDED_CRDS.rglob("*.json"))
                   for rule in CelRules(json.loads(path.read_text()), Outcomes()).rules})


def _paths(expression: Any) -> Iterator[tuple[str, ...]]:
    if expression[0] in ("or", "and"):
        yield from _paths(expression[1])
        yield from _paths(expression[2])
    elif expression[0] == "not":
        yield from _paths(expression[1])
    else:
        yield expression[1]


def test_most_rules_met_are_decided_without_cel_python() -> None:
    from renderer.schemas.cel import _parse

    decided = [rule for rule in _cel_rules() if _parse(rule) is not None]
    assert len(decided) >= 32
    assert {"!has(self.serverName)", "!(has(self.imageCatalogRef) && has(self.imageName))",
            "!has(self.icuLocale) || self.localeProvider == 'icu'", "self != 'postgres'"} <= set(decided)


@given(st.data())
def test_rules_decided_without_cel_python_agree_with_it(data: st.DataObject) -> None:
    """Every rule _direct reads, on nodes whose fields are there or not, of any type: where it
    decides, cel-python says the same."""
    from renderer.schemas.cel import _direct, _parse
    from renderer.schemas.celeval import outcome

    rule = data.draw(st.sampled_from([rule for rule in _cel_rules() if _parse(rule) is not None]))
    expression = _parse(rule)
    texts = re.findall(r"'([^']*)'|\"([^\"]*)\"", rule)
    values = st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([a or b for a, b in texts] + ["x", ""]) \
        | st.lists(st.just("x"), max_size=1) | st.dictionaries(st.just("x"), st.just("y"), max_size=1)
    paths = sorted(set(_paths(expression)))
    if paths == [()]:  # a rule on the node itself
        node = data.draw(values)
    else:
        node = {}
        for path in paths:
            if path and data.draw(st.booleans()):
                holder = node
                for step in path[:-1]:
                    holder = holder.setdefault(step, {}) if isinstance(holder.get(step, {}), dict) else {}
                holder[path[-1]] = data.draw(values)
    decided = _direct(rule, node)
    if decided is not None:
        assert decided == outcome(rule, node), (rule, node)


@pytest.mark.parametrize("indent", [2, None])
@pytest.mark.parametrize("ref, whole", [("/api/_definitions.json#/$defs/a", False), ("#/$defs/a", False),
                                        ("#/$defs/a~1b", True), ("#/$defs/missing", True), ("other.json#/x", True)])
def test_the_fast_validator_is_given_the_definitions_a_kind_reaches(ref: str, whole: bool, indent: int | None) -> None:
    """A core kind's definitions: those its schema reaches, through theirs (each read from the file
    on its own where it is laid out as kubernetes-validate writes it); all of them where a reference
    is not plainly to one, or the file is laid out otherwise."""
    from renderer.validate import Definitions, _reached

    document = {"$id": "x", "$defs": {"a": {"properties": {"b": {"$ref": "#/$defs/b"}}}, "b": {"type": "string"},
                                      "c": {"type": "integer"}, "a~1b": {}}, "$schema": "s"}
    reached = _reached({"properties": {"x": {"$ref": ref}}}, Definitions(json.dumps(document, indent=indent)))
    assert reached == (document if whole or indent is None
                       else {"$id": "x", "$defs": {"a": document["$defs"]["a"], "b": {"type": "string"}}, "$schema": "s"})


def test_every_core_kind_is_given_the_very_definitions_it_reaches() -> None:
    """Against kubernetes-validate's own files (the Kubernetes version dbfleet validates for):
    each core kind's definitions, read on their own, are those of the whole file, and every
    reference among them is to one of them."""
    from renderer.validate import Definitions, Validators, _reached

    folder = Validators()._kube_schema_dir()
    text = (folder / "_definitions.json").read_text(encoding="utf-8")
    whole, definitions = json.loads(text), Definitions(text)
    kinds = [path for path in sorted(folder.glob("*.json")) if path.name != "_definitions.json"]
    assert len(kinds) > 500
    for path in kinds:
        reached = _reached(json.loads(path.read_text(encoding="utf-8")), definitions)
        assert reached.keys() == whole.keys(), path.name
        assert all(whole["$defs"][name] == found for name, found in reached["$defs"].items()), path.name
        refs = re.findall(r'"\$ref": "[^"#]*#/\$defs/([^"]+)"', json.dumps([json.loads(path.read_text()), reached]))
        assert set(refs) <= reached["$defs"].keys(), path.name
