"""Setting one value in YAML text: the rest of the file stays byte for byte."""
from __future__ import annotations

import pytest
import yaml

from renderer.catalog.positioned import load_documents
from renderer.ops import yamltext

CASES = {
    "a plain value": ("a: 1\nb: 2  # two\n", ["b"], 3, "a: 1\nb: 3  # two\n"),
    "the quoting kept": ('v: "16"\n', ["v"], "17", 'v: "17"\n'),
    "single quotes kept": ("v: 'x'\n", ["v"], "it's", "v: 'it''s'\n"),
    "a comment keeps its column": ('v: "17.9"      # pinned\n', ["v"], "18", 'v: "18"        # pinned\n'),
    "a longer value pushes the comment": ("v: 1 # c\n", ["v"], 123456, "v: 123456 # c\n"),
    "a number-looking string is quoted": ("v: x\n", ["v"], "17", 'v: "17"\n'),
    "a YAML 1.1 boolean is quoted": ("v: x\n", ["v"], "on", 'v: "on"\n'),
    "a time is quoted": ("v: x\n", ["v"], "2026-11-22T08:00:00Z", 'v: "2026-11-22T08:00:00Z"\n'),
    "a quantity stays plain": ("v: 1Gi\n", ["v"], "20Gi", "v: 20Gi\n"),
    "structure is quoted": ("v: x\n", ["v"], "a: {b}", 'v: "a: {b}"\n'),
    "a key added to a block mapping": ("m:\n  a: 1\n  # note\nn: 2\n", ["m", "b"], 2, "m:\n  a: 1\n  b: 2\n  # note\nn: 2\n"),
    "a key added to a flow mapping": ("m: {a: 1}\n", ["m", "b"], 2, "m: {a: 1, b: 2}\n"),
    "a key added to an empty flow mapping": ("m: {}\n", ["m", "b"], 2, "m: {b: 2}\n"),
    "a nested key added": ("m:\n  a: 1\n", ["m", "p", "q"], "x", "m:\n  a: 1\n  p: {q: x}\n"),
    "a value under an empty key": ("m:\nn: 1\n", ["m", "a"], 1, "m: {a: 1}\nn: 1\n"),
    "an item added to a block list": ("l:\n  - name: a\n    v: 1\n", ["l", ("name", "b"), "v"], 2,
                                      "l:\n  - name: a\n    v: 1\n  - name: b\n    v: 2\n"),
    "an item added to an indentless list": ("l:\n- name: a\n  v: 1\nz: 0\n", ["l", ("name", "b"), "v"], 2,
                                            "l:\n- name: a\n  v: 1\n- name: b\n  v: 2\nz: 0\n"),
    "an item added to a flow list": ("l: [{name: a}]\n", ["l", ("name", "b"), "v"], 2, "l: [{name: a}, {name: b, v: 2}]\n"),
    "a named item's value": ("l:\n  - {name: a, v: 1}\n  - {name: b, v: 1}\n", ["l", ("name", "b"), "v"], 5,
                             "l:\n  - {name: a, v: 1}\n  - {name: b, v: 5}\n"),
    "no newline at the end": ("m:\n  a: 1", ["m", "b"], 2, "m:\n  a: 1\n  b: 2"),
    "a list of entries as a block": ("s:\n  x: 1\n", ["s", "clusters"], [{"name": "a", "replicas": 2}],
                                     "s:\n  x: 1\n  clusters:\n    - {name: a, replicas: 2}\n"),
}


@pytest.mark.parametrize("text, path, value, expected", CASES.values(), ids=CASES.keys())
def test_set_value(text: str, path: list[yamltext.Step], value: object, expected: str) -> None:
    edited = yamltext.set_value(text, yamltext.documents(text)[0], path, value)
    assert edited == expected
    yaml.safe_load(edited)  # any YAML reader reads it
    docs, problems = load_documents(edited, "f.yaml", "a mapping")  # dbfleet's own reader: YAML 1.2 core
    assert not problems and docs


def test_the_second_document_of_a_file() -> None:
    text = "a: 1\n---\na: 1\n"
    assert yamltext.set_value(text, yamltext.documents(text)[1], ["a"], 2) == "a: 1\n---\na: 2\n"


@pytest.mark.parametrize("text, path", [("l: [1, 2]\n", ["l"]), ("m: {a: 1}\n", ["m"]), ("v: |\n  x\n", ["v"]),
                                        ("v: 1\n", ["v", "w"])])
def test_what_is_not_one_value_is_refused(text: str, path: list[yamltext.Step]) -> None:
    with pytest.raises(yamltext.EditError):
        yamltext.set_value(text, yamltext.documents(text)[0], path, 1)
