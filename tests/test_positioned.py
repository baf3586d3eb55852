from __future__ import annotations

import pytest

from renderer.catalog.nodes import PList, PMap
from renderer.catalog.positioned import load_documents, locate
from renderer.errors import Mark, format_path


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"), ("yes", "yes"), ("no", "no"), ("off", "off"), ("y", "y"),
        ("true", True), ("False", False), ("~", None), ("null", None), ("", None),
        ("12", 12), ("-3", -3), ("0o17", 15), ("0x1f", 31), ("1.5", 1.5), ("1e3", 1000.0),
        ("0755", 755), ("12:30", "12:30"), ("2026-11-20", "2026-11-20"),
        ('"16.4"', "16.4"), ("'yes'", "yes"), ("!!str 5", "5"), ("16.4", 16.4),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    docs, problems = load_documents(f"k: {text}\n", "f.yaml")
    assert problems == []
    assert docs[0]["k"] == value


def test_positions_of_keys_and_items() -> None:
    docs, _ = load_documents("a:\n  b:\n    - x\n    - {c: 1}\n", "f.yaml")
    root = docs[0]
    assert isinstance(root, PMap) and isinstance(root["a"]["b"], PList)
    assert locate(root, ["a", "b", 1, "c"]) == Mark("f.yaml", 4, 8)
    assert locate(root, ["a", "b", 0]) == Mark("f.yaml", 3, 7)
    assert locate(root, ["a", "missing", "deeper"]) == Mark("f.yaml", 1, 1)


def test_a_repeated_text_is_one_string_so_specs_marshal_with_references() -> None:
    docs, _ = load_documents('- {name: a, mode: transaction, v: "16", on: true}\n'
                             '- {name: b, mode: transaction, v: "16", on: true}\n', "f.yaml")
    first, second = docs[0]
    assert [k1 is k2 for k1, k2 in zip(first, second)] == [True] * 4
    assert first["mode"] is second["mode"] and first["v"] is second["v"]
    assert first["on"] is True and first["name"] == "a" and second["name"] == "b"


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    _, problems = load_documents("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:3:1: error: duplicate key 'a' (first defined at line 1)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "f.yaml:2:1: error: invalid YAML: while parsing a flow sequence, did not find expected ',' or ']'"),
        ("a: b: c\n", "f.yaml:1:5: error: invalid YAML: mapping values are not allowed in this context"),
        ("a:\n\tb: 1\n", "f.yaml:2:1: error: invalid YAML: while scanning for the next token, found character that cannot start any token"),
    ],
)
def test_syntax_errors_are_positioned(text: str, message: str) -> None:
    docs, problems = load_documents(text, "f.yaml")
    assert docs == []
    assert [str(p) for p in problems] == [message]


def test_aliases_read_as_copies_with_the_anchors_positions() -> None:
    docs, problems = load_documents("base: &b {size: 1Gi, tags: [x]}\nk: &k key\none: *b\ntwo: *b\n*k : 5\n", "f.yaml")
    root = docs[0]
    assert problems == []
    assert root == {"base": {"size": "1Gi", "tags": ["x"]}, "k": "key", "one": root["base"], "two": root["base"], "key": 5}
    root["one"]["tags"].append("y")  # each alias is a value of its own
    assert root["two"]["tags"] == ["x"] and root["base"]["tags"] == ["x"]
    assert locate(root, ["two", "tags", 0]) == Mark("f.yaml", 1, 29)  # where the anchored value is written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: *nothing\n", "f.yaml:1:4: error: invalid YAML: found undefined alias"),
        ("a: &x 1\nb: &x 2\n", "f.yaml:2:4: error: invalid YAML: found duplicate anchor; first occurrence, second occurrence"),
        ("a: &x [1, *x]\n", "f.yaml:1:4: error: an alias refers to a value that holds it: the value would be infinite"),
        ("? [a]\n: 1\nb: 2\n", "f.yaml:1:3: error: a mapping key must be a string"),
        ("a: 1\n---\n", "f.yaml:2:1: error: the document is empty: write a YAML document in it, or delete it"),
        ("a: " + "[" * 101 + "]" * 101 + "\n", "f.yaml:1:104: error: values are nested more than 100 levels deep"),
        *((text, f"f.yaml:{where}: error: {number} is no number a Kubernetes object or a configuration file can hold "
                 "(JSON has no infinity or NaN): write a finite number, or quote it for the text")
          for text, where, number in [("a: [1, -.Inf]\n", "1:8", "-.Inf"), ("a: &x .nan\nb: *x\n", "1:4", ".nan"),
                                      ("+.inf\n", "1:1", "+.inf")]),
    ],
)
def test_what_cannot_be_read_is_positioned(text: str, message: str) -> None:
    _, problems = load_documents(text, "f.yaml")
    assert [str(p) for p in problems] == [message]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_nesting_past_any_reader_s_limit_is_an_error_at_its_place(depth: int) -> None:
    """Far past dbfleet's bound, the reader's own (libyaml's, in newer PyYAML) may speak first:
    either way, one positioned error, never a crash."""
    _, problems = load_documents("a: " + "[" * depth + "]" * depth + "\n", "f.yaml")
    assert len(problems) == 1 and problems[0].mark.line == 1 and "nest" in problems[0].message


def test_every_document_of_a_stream() -> None:
    """Anchors are each document's own (as libyaml's composer has them)."""
    docs, problems = load_documents("a: &x 1\n---\nb: &x 2\n...\n---\n- &y 3\n- *y\n", "f.yaml")
    assert (docs, problems) == ([{"a": 1}, {"b": 2}, [3, 3]], [])
    assert [str(p) for p in load_documents("a: &x 1\n---\n- *x\n", "f.yaml")[1]] == [
        "f.yaml:3:3: error: invalid YAML: found undefined alias"]


def test_format_path() -> None:
    assert format_path(["clusters", 0, "storage", "size"]) == "clusters[0].storage.size"
