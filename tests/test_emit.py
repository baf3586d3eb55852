"""The emitter's output reads back, with YAML 1.1 and 1.2 readers, as exactly what was meant."""
from __future__ import annotations

import random
import string

import pytest
import yaml

from renderer.emit import dump, scalar

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
