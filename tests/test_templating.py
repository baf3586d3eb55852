"""What a template writes is read back as PyYAML's safe loader (and Go's YAML 1.1 readers) read it."""
from __future__ import annotations

from pathlib import Path

import math

import jinja2
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from renderer.emit import json_text
from renderer.rendering.jinja_env import SHIPPED, Compiled
from renderer.rendering.templating import TemplateError, Templates, _slot_value, parse_object, shipped_text

DOCUMENTS = [
    "a: yes\nb: on\nc: Off\nd: ~\ne: null\nf: 0755\ng: 0x1F\nh: 1e3\ni: 1.5e3\nj: 12:30\nk: 2001-12-14\n",
    "l: .inf\nm: -.Inf\nn: 1_000\no: +12\np: '5'\nq: \"true\"\nr: !!str 5\ns: ! 5\nt: !!int \"7\"\n",
    "yes: 1\n5: five\nnull: x\n\"quoted\": y\n",
    "list:\n  - a\n  - 1\n  - [true, \"x\", {k: v}]\n  - key: |\n      line one\n      line two\n    other: >\n      folded\n      text\n",
    "metadata:\n  name: \"db\"\n  labels: {app: \"x\", n: 3}\nspec:\n  empty: {}\n  none: []\n  s: \"\\u00e9\\n\"\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_template_output_reads_as_yaml_1_1(text: str) -> None:
    assert parse_object(text) == yaml.safe_load(text)


def test_templates_compiled_before_are_taken_only_for_their_very_source(tmp_path: Path) -> None:
    """A run keeps what it compiled; the next takes it instead of compiling again, unless the
    template's text is another (a --templates override of the same name)."""
    first = Compiled()
    made = Templates(compiled=first).render("common/namespace.yaml.j2", {"namespace": "shop"})
    assert first.changed and first.stored
    again = Compiled(first.stored)
    assert Templates(compiled=again).render("common/namespace.yaml.j2", {"namespace": "shop"}) == made
    assert not again.changed  # taken, not compiled
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "namespace.yaml.j2").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace }}\n  labels: {team: {{ namespace }}}\n")
    override = Compiled(first.stored)
    mine = Templates(tmp_path, override).render("common/namespace.yaml.j2", {"namespace": "shop"})
    assert mine["metadata"]["labels"] == {"team": "shop"} and override.changed



def test_the_shipped_compiled_templates_are_what_jinja_compiles_now() -> None:
    """renderer/compiled-templates.json holds the Python source the pinned Jinja compiles each
    built-in template to, set up by this templating.py.  When this fails (a template, templating.py
    or Jinja changed), write it again: python -c 'from renderer.rendering.templating import *; ship_compiled()'"""
    assert SHIPPED.read_text() == shipped_text()


def test_a_first_run_compiles_no_template_with_jinja(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no template compiled before (a new user, every CI runner), every built-in one comes
    from the shipped source, renders as Jinja's own compiling of it would, and is kept for the
    next run; a template of yours is compiled."""
    reference = Templates(compiled=None)
    reference.compile()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Jinja compiled a template")

    monkeypatch.setattr(jinja2.Environment, "_generate", refuse)
    first = Compiled()
    shipped = Templates(compiled=first)
    shipped.compile()
    context = {"namespace": "shop"}
    assert shipped.render("common/namespace.yaml.j2", context) == reference.render("common/namespace.yaml.j2", context)
    assert first.changed and len(first.stored) == len(shipped.names)
    some = Compiled()
    Templates(compiled=some).compile({"databases/cronjob.yaml.j2"})  # and the pod it includes
    assert len(some.stored) == 2
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "namespace.yaml.j2").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    with pytest.raises(AssertionError, match="Jinja compiled"):
        Templates(tmp_path, Compiled())



def test_a_dicts_keys_read_as_attributes_as_jinjas_sandbox_reads_them() -> None:
    """``d.name`` is the key; ``d.items`` the method, even beside a key "items"; a key that is
    not there is undefined; the sandbox still refuses what is unsafe."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    from renderer.rendering.jinja_env import Environment

    d = {"name": "x", "items": 3, "keys": None}
    text = "{{ d.name }} {{ d['items'] }} {{ d.items() | list | length }} {{ d.keys is none }} {{ d.get('name') }}"
    for env in (Environment(undefined=jinja2.StrictUndefined), ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)):
        assert env.from_string(text).render(d=d) == "x 3 3 False x"
        with pytest.raises(jinja2.UndefinedError):
            env.from_string("{{ d.missing }}").render(d=d)
        with pytest.raises(SecurityError):
            env.from_string("{{ d.__class__.__subclasses__() }}").render(d=d)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.sampled_from([1e20, -0.0, 1e-7, 1.5e300, float("inf"), -float("inf")]),
    # (no lone surrogate: a catalog is UTF-8, which cannot hold one)
    st.text(st.characters(exclude_categories=("Cs",))),
    st.sampled_from(["yes", "0755", "1e3", "12:30", "~", "null", "\u2028", "\ufeff", "\x85", "\ue0000\ue001"]),
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), inner, max_size=4),
    st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none()), inner, max_size=3)), max_leaves=12)


@given(JSON_VALUES)
def test_a_value_in_a_skeleton_is_what_its_text_reads_as(value: object) -> None:
    """A value a token stands in for is built as YAML 1.1 reads its JSON text: 1e+20 and Infinity
    are strings, a mapping's keys are strings."""
    assert _same(_slot_value(value), parse_object(json_text(value)))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):  # -0.0 and 0.0 are written apart
        return math.copysign(1, a) == math.copysign(1, b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def test_a_built_in_template_that_includes_yours_renders_as_text(tmp_path: Path) -> None:
    """Your pod template filters a block (here: upper case): the built-in CronJob that includes
    it writes what its text says, as it did before skeletons."""
    from renderer.catalog.load import load
    from renderer.catalog.sources import yaml_files
    from renderer.rendering.build import render_all
    from tests.conftest import ROOT

    (tmp_path / "databases").mkdir()
    pod = (ROOT / "templates/databases/pod.yaml.j2").read_text()
    line = "  - name: {{ script_name }}\n"
    assert line in pod
    (tmp_path / "databases" / "pod.yaml.j2").write_text(
        pod.replace(line, "  - name: {% filter upper %}{{ script_name }}{% endfilter %}\n\n"))  # (a block tag eats its newline)
    catalog = load(yaml_files(ROOT / "catalog"), yaml_files(ROOT / "overlays"), ROOT)
    files = render_all(catalog, Templates(tmp_path)).files
    assert files == render_all(catalog, Templates(tmp_path, skeletons=False)).files
    assert b"- name: BACKUP\n" in files["prod/databases/invoices/cronjob-invoices-backup.yaml"]


@pytest.mark.parametrize("value", [{1, 2}, [1, object()], {"a": {"b": {1}}}, {1: "x", "y": [float("nan")]}, b"bytes"],
                         ids=["set", "list", "nested", "keys", "bytes"])
def test_what_json_cannot_write_fails_alike_with_and_without_skeletons(value: object) -> None:
    """A skeleton checks a dict's or a list's items when it builds the object; failing, the text
    is rendered, and says what the text without skeletons says."""
    outcomes = []
    for templates in (Templates(), Templates(skeletons=False)):
        try:
            outcomes.append(templates.render("common/serviceaccount.yaml.j2",
                                             {"namespace": "n", "name": "a", "annotations": {"k": value}}))
        except TemplateError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


def test_an_object_of_hundreds_of_values_is_built_as_its_text_reads() -> None:
    """Tokens beyond the first 256 values stand in as the first ones do."""
    context = {"name": "n", "namespace": "ns", "provision_file": "provision.sql", "provision": "select 1;",
               "engine": "postgresql", "backup": False, "restore": False, "drill": True,
               "drill_files": {f"file-{i}.txt": f"text {i}" if i % 3 else i for i in range(300)}}
    made = Templates().render("databases/configmap.yaml.j2", context)
    assert made == Templates(skeletons=False).render("databases/configmap.yaml.j2", context)
    assert made["data"]["file-299.txt"] == "text 299" and made["data"]["file-3.txt"] == 3
