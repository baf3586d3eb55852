"""What a template writes is read back as PyYAML's safe loader (and Go's YAML 1.1 readers) read it."""
from __future__ import annotations

import pytest
import yaml

from renderer.templating import parse_object

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
