"""What a template writes is read back as PyYAML's safe loader (and Go's YAML 1.1 readers) read it."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from renderer.templating import Compiled, Templates, parse_object

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
