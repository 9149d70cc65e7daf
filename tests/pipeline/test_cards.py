"""Card features computed on whole Arrow columns behave like Python's str and re on each card."""

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.cards import WHITESPACE, body_starts, card_excerpts, has_text, looks_auto_generated


def _cards(*cards):
    return pa.array(list(cards), pa.string())


def test_whitespace_class_is_pythons_whitespace():
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    matched = pc.match_substring_regex(pa.array(chars), f"[{WHITESPACE}]").to_pylist()
    assert matched == [c.isspace() for c in chars]


def test_front_matter_is_stripped_from_the_body():
    cards = _cards(
        "---\nlicense: mit\n---\n# Title\ntext",
        "\ufeff  ---\nlicense: mit\n---   \n# Title",  # byte-order mark, spaces around the fences
        "---\nlicense: mit\n---",  # closing fence at the very end
        "---\nnever closed\n# Title",  # no closing fence: nothing removed
        "# Title\n---\nnot: front matter\n---\n",  # fences not at the start
        "---\na: 1\n---\n---\nb: 2\n---\nbody",  # only the first block
        None,
    )
    assert body_starts(cards, 100).to_pylist() == [
        "# Title\ntext",
        "# Title",
        "",
        "---\nnever closed\n# Title",
        "# Title\n---\nnot: front matter\n---\n",
        "---\nb: 2\n---\nbody",
        None,
    ]


def test_body_starts_count_characters_and_accept_chunked_and_sliced_input():
    cards = pa.chunked_array(
        [_cards("---\nx: y\n---\nédition 日本語 text"), _cards(None, "abcdef", "---\n---\nzz")]
    )
    assert body_starts(cards, 4).to_pylist() == ["édit", None, "abcd", "---\n"]
    assert body_starts(_cards("skip", "---\na\n---\nbody", "x").slice(1, 1), 2).to_pylist() == [
        "bo"
    ]
    large = pa.array(["---\na\n---\nbody"], pa.large_string())
    assert body_starts(large, 3).to_pylist() == ["bod"]


def test_excerpts_collapse_unicode_whitespace_and_are_null_when_empty():
    cards = _cards(
        "# Title\n\n  Some\u3000text\xa0with\u2028odd\u2009 spaces.\t",
        "---\nlicense: mit\n---\n \n\t ",  # only front matter and whitespace
        "   ",
        "a" * 600,
        " " * 1500 + "after the first 1000 characters",  # only the body's start is looked at
        None,
    )
    assert card_excerpts(cards).to_pylist() == [
        "# Title Some text with odd spaces.",
        None,
        None,
        "a" * 512,
        None,
        None,
    ]


def test_auto_generated_markers_match_in_any_case_as_str_lower_would():
    cards = _cards(
        "THIS MODEL CARD HAS BEEN GENERATED AUTOMATICALLY by the Trainer.",
        "Model details: [More Information Needed]",
        "Merged with mergekit: This is a merge of pre-trained language models created using "
        "[mergekit]",
        "This model was converted to MLX format from x",
        "This model card has been generated automatically".replace(
            "k", "\u212a"
        ),  # KELVIN SIGN lowers to k
        "Thiſ model card has been generated automatically",  # long s does not lower to s
        "A hand-written card about a model.",
        "",
        None,
    )
    assert looks_auto_generated(cards).to_pylist() == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_has_text_ignores_whitespace_only_cards():
    assert has_text(
        _cards("x", " \n\u3000", "", None, "\u200bzero-width space is text")
    ).to_pylist() == [
        True,
        False,
        False,
        False,
        True,
    ]
