"""The block reader's shortcut for one-line text nodes gives the span the general path
gives: same text, same segments, on every kind of text node the specs hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it_pyrs import Node
from specloom.spec.document import _markdown, _Source
from specloom.spec.source import Span, decode_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.spec.md"))

ODD_TEXTS = [
    "## Entities\n### Book\n- title: string   \n- isbn:\tstring\t\n",
    "- a\n  continued\n- b\n",
    "- é: string\n- 日本: text\n",  # not ASCII: the general path
    "## Flows\n### F1. X\n- Require x > 1,\n  else 409.\n",
    "-\n- \n-  x",
    "# Title\n\n   - indented\n\t- tabbed\n",
]


def _general(source: _Source, node: Node) -> Span:
    return source.span(*source.offsets(node))


@pytest.mark.parametrize(
    "text",
    [path.read_text(encoding="utf-8") for path in EXAMPLES] + ODD_TEXTS,
    ids=[path.name for path in EXAMPLES] + [f"odd-{i}" for i in range(len(ODD_TEXTS))],
)
def test_node_span_is_the_general_span(text: str) -> None:
    decoded = decode_spec(text).text
    source = _Source(decoded)
    checked = 0
    for node in _markdown().tree(decoded).walk():
        if node.name != "text":
            continue
        fast, general = source.node_span(node), _general(source, node)
        assert fast.text == general.text
        assert fast.segments == general.segments
        checked += 1
    assert checked
