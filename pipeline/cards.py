"""Model card features: length, a readable excerpt, and whether it looks auto-generated.

The paper finds that cards shorten and standardize down a family tree, turning to
templates and tool-written text; these features measure that per model without
keeping whole cards in memory.

Every function takes a whole column of cards (an Arrow string array, nulls for
no card) and runs Arrow's RE2 kernels over it, so a 100k-row batch of cards costs
a fraction of a second. The patterns give the same results as Python's `re` and
`str` methods would on each card: whitespace is Python's (`str.isspace`, `\\s`),
not RE2's ASCII-only `\\s`.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.schema import CARD_EXCERPT_CHARS

# Phrases written by tools, not people: the Trainer/Keras callbacks, the Hub's
# default card template, AutoTrain, GGUF-my-repo, mlx-lm, mergekit, Unsloth and
# sentence-transformers' generated cards.
AUTO_GENERATED_MARKERS = (
    "this model card has been generated automatically",
    "this model card has been automatically generated",
    "this modelcard aims to be a base template for new models",
    "<!-- provide a quick summary of what the model is/does. -->",
    "[more information needed]",
    "model trained using autotrain",
    "this model was trained using autotrain",
    "using llama.cpp via the ggml.ai's gguf-my-repo space",
    "this model was converted to mlx format from",
    "this is a merge of pre-trained language models created using [mergekit]",
    "was trained 2x faster with [unsloth]",
    "this is a [sentence-transformers](https://www.sbert.net) model",
)

# The characters Python counts as whitespace (`str.isspace`, `re`'s \s) as the inside
# of an RE2 class: the space and the others.
_OTHER_WHITESPACE = (
    r"\t-\r\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
WHITESPACE = " " + _OTHER_WHITESPACE
_SPACE = f"[{WHITESPACE}]"
_NOT_SPACE = f"[^{WHITESPACE}]"

# YAML front matter: an optional byte-order mark, "---" on the first line, up to
# the next line that is "---".
_FRONT_MATTER = (
    rf"(?s)\A(?P<front_matter>\x{{feff}}?{_SPACE}*---{_SPACE}*\n.*?\n---{_SPACE}*(?:\n|\z))"
)

# A run of whitespace to collapse into one space. A lone space is already that,
# so it is not matched: same result, far fewer replacements.
_WHITESPACE_RUN = f"{_SPACE}{{2,}}|[{_OTHER_WHITESPACE}]"

# Characters other than a-z and A-Z whose lower case is an ASCII letter.
_OTHER_UPPER = {"k": "\\x{212a}"}  # KELVIN SIGN


def _lowercase_pattern(phrase: str) -> str:
    """RE2 pattern for text whose `str.lower()` contains `phrase` (an ASCII lower-case phrase)."""
    return "".join(
        f"[{c}{c.upper()}{_OTHER_UPPER.get(c, '')}]" if c.isalpha() else re.escape(c)
        for c in phrase
    )


_AUTO_GENERATED = "|".join(_lowercase_pattern(marker) for marker in AUTO_GENERATED_MARKERS)


def has_text(cards: pa.Array) -> pa.Array:
    """True where the card holds anything but whitespace (False for no card)."""
    return pc.fill_null(pc.match_substring_regex(cards, _NOT_SPACE), False)


def body_starts(cards: pa.Array | pa.ChunkedArray, chars: int) -> pa.Array | pa.ChunkedArray:
    """The first `chars` characters of each card's body: the card without its YAML front matter.

    Only the front matter and the returned starts are copied, never whole cards.
    """
    if isinstance(cards, pa.ChunkedArray):
        return pa.chunked_array([body_starts(chunk, chars) for chunk in cards.chunks], cards.type)
    front_matter = pc.extract_regex(cards, _FRONT_MATTER).field("front_matter")
    front_bytes = pc.fill_null(pc.binary_length(front_matter), 0).to_numpy(zero_copy_only=False)
    halves = _split(cards, front_bytes)
    tails = np.arange(1, len(halves), 2)
    starts = pc.utf8_slice_codeunits(halves, 0, chars).take(pa.array(tails))
    return pc.if_else(pc.is_valid(cards), starts, pa.scalar(None, starts.type))


def _split(strings: pa.Array, cut_bytes: np.ndarray) -> pa.Array:
    """Each string cut in two at a byte position: 2n strings (head, tail, head, tail, ...)
    over the same data buffer, so nothing is copied. Null strings become two pieces too."""
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    n = len(strings)
    if n == 0:
        return pa.array([], strings.type)
    offsets = np.frombuffer(strings.buffers()[1], offset_type)[
        strings.offset : strings.offset + n + 1
    ]
    cuts = np.empty(2 * n + 1, offset_type)
    cuts[0::2] = offsets
    cuts[1::2] = offsets[:-1] + cut_bytes
    data = strings.buffers()[2] or pa.py_buffer(b"")
    return pa.Array.from_buffers(strings.type, 2 * n, [None, pa.py_buffer(cuts), data])


def card_excerpts(cards: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The first CARD_EXCERPT_CHARS characters of each card body, whitespace collapsed (null if
    empty).

    Only the body's first 2 x CARD_EXCERPT_CHARS characters are looked at.
    """
    start = body_starts(cards, CARD_EXCERPT_CHARS * 2)
    collapsed = pc.utf8_trim_whitespace(pc.replace_substring_regex(start, _WHITESPACE_RUN, " "))
    excerpts = pc.utf8_slice_codeunits(collapsed, 0, CARD_EXCERPT_CHARS)
    return pc.if_else(pc.equal(excerpts, ""), pa.scalar(None, excerpts.type), excerpts)


def looks_auto_generated(cards: pa.Array) -> pa.Array:
    """True where the card carries a known tool-written template phrase, in any letter case."""
    return pc.fill_null(pc.match_substring_regex(cards, _AUTO_GENERATED), False)
