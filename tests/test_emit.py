"""The emitter's output reads back, with YAML 1.1 and 1.2 readers, as exactly what was meant."""
from __future__ import annotations

import random
import string
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from renderer.emit import dump, dump_planned, plan, scalar, slot

TRICKY = [
    "yes", "no", "on", "off", "y", "N", "true", "False", "null", "~", "", " ", "0755", "012", "12:30",
    "1:2:3", "1e3", "1E3", "0x1F", "0o17", "0b101", "1_000", ".5", "-1", "+1", ".inf", "-.Inf", ".nan",
    "2026-11-20", "2026-11-20T10:00:00Z", "16.4", "20Gi", "0 3 * * *", "*", "&a", "!tag", "%x", "@x",
    "`x", "|x", ">x", "#x", "?", "?x", "-", "- a", "-x", "[a]", "{a}", "a: b", "a #b", "a:", "x ", " x",
    "<<", "=", "\t", "a\tb", "\x01", "ünïcödé", "→", "http://a/b?c=d#e", "Prune=false,Delete=false",
    "a\nb\n", "a\nb", "a\n\n", "  a\n", "a \nb\n", "\n", "line\n  indented\n", "'quoted'", '"dq"', "\\",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_read_back_as_strings(text: str) -> None:
    document = {"key": text, text: "value", "list": [text, {text: text}]}
    assert yaml.safe_load(dump(document)) == document


def test_yaml_1_1_lookalikes_are_quoted_and_plain_strings_are_not() -> None:
    assert [scalar(s) for s in ("yes", "on", "0755", "12:30", "1e3", "null", "~")] == [
        '"yes"', '"on"', '"0755"', '"12:30"', '"1e3"', '"null"', '"~"'
    ]
    assert scalar("fast-ssd") == "fast-ssd"
    assert scalar("ghcr.io/cloudnative-pg/postgresql:16.4") == "ghcr.io/cloudnative-pg/postgresql:16.4"


def test_random_strings_round_trip() -> None:
    rng = random.Random(20261121)
    alphabet = string.printable + "üß→\u2028\u2029\x85\x9f\ufeff"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        document = {"k": text, "l": [text]}
        assert yaml.safe_load(dump(document)) == document, repr(text)


def test_block_layout_and_key_order() -> None:
    document = {"kind": "X", "b": {"z": 1, "a": [1, {"w": True, "x": None}], "e": {}, "l": []}, "s": "a\nb\n"}
    assert dump(document) == (
        "kind: X\n"
        "b:\n"
        "  z: 1\n"
        "  a:\n"
        "    - 1\n"
        "    - w: true\n"
        "      x: null\n"
        "  e: {}\n"
        "  l: []\n"
        "s: |\n"
        "  a\n"
        "  b\n"
    )


def test_numbers_that_kubernetes_cannot_take_are_refused() -> None:
    with pytest.raises(ValueError):
        dump({"x": float("nan")})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(TRICKY) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(TRICKY[:20] + ["a", "b"]), children,
                                                                       max_size=4),
    max_leaves=20)


@given(st.dictionaries(st.sampled_from(["apiVersion", "kind", "metadata", "spec", "data"]), _JSON, min_size=1),
       st.randoms(use_true_random=False))
def test_a_planned_document_is_dumped_as_dump_writes_it(document: dict[str, Any], rng: random.Random) -> None:
    """Any values of a document stand aside as slots (whole mappings, lists, multi-line strings,
    items of lists, a negative slot's value given whole): the plan writes what dump writes."""
    values: list[Any] = []
    extra: list[Any] = []

    def shaped(value: Any) -> Any:
        if rng.random() < 0.3:  # this value is known when dumping
            if rng.random() < 0.2:
                extra.append(value)
                return slot(-len(extra))
            values.append(value)
            return slot(len(values) - 1)
        if isinstance(value, dict):
            return {key: shaped(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shaped(item) for item in value]
        return value

    planned = plan({key: shaped(value) for key, value in document.items()})
    assert planned is not None
    assert dump_planned(planned, values, tuple(extra)) == dump(document)


@pytest.mark.parametrize("shape", [
    {"a": {slot(0): "key"}},  # a slot as a key
    {"a": "x" + slot(0)},  # inside a string
    {"a": "\ue002"},  # a slot's character
])
def test_a_shape_whose_slots_are_not_whole_values_has_no_plan(shape: dict[str, Any]) -> None:
    assert plan(shape) is None
