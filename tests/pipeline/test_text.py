import pandas as pd
import pyarrow as pa
import pytest

from pipeline.schema import LIST_COLUMNS, MODEL_SCHEMA, to_frame
from pipeline.text import CARD_TEXT_CHARS, id_words, model_text


def models_frame(rows: list[dict]) -> pd.DataFrame:
    """Arrow-backed frame in the normalized schema; unspecified columns null or empty."""
    columns = {}
    for name in MODEL_SCHEMA.names:
        default = [] if name in LIST_COLUMNS else None
        columns[name] = [row.get(name, default) for row in rows]
    return to_frame(pa.table(columns, schema=MODEL_SCHEMA))


@pytest.mark.parametrize(
    ("model_id", "words"),
    [
        ("meta-llama/Llama-2-7b-chat-hf", "meta llama Llama 2 7b chat hf"),
        ("TheBloke/GPTNeoX-20B-GGUF", "The Bloke GPT Neo X 20B GGUF"),
        ("openai-community/gpt2", "openai community gpt 2"),
        ("Qwen/Qwen2.5-7B-Instruct", "Qwen Qwen 2 5 7B Instruct"),
        ("mistralai/Mixtral-8x7B-v0.1", "mistralai Mixtral 8x7B v 0 1"),
        ("a__b..c", "a b c"),
    ],
)
def test_id_words_split_on_separators_camel_case_and_letter_digit(model_id, words):
    assert id_words(pa.array([model_id])).to_pylist() == [words]


def test_model_text_joins_id_tags_task_library_and_card_start():
    models = models_frame(
        [
            {
                "model_id": "meta-llama/Llama-2-7b-chat-hf",
                "tags": [
                    "transformers",
                    "license:llama2",
                    "dataset:HuggingFaceH4/ultrachat_200k",
                    "base_model:finetune:meta-llama/Llama-2-7b-hf",
                    "region:us",
                    "arxiv:2307.09288",
                    "doi:10.57967/hf/1234",
                ],
                "pipeline_tag": "text-generation",
                "library_name": "transformers",
                "card_excerpt": "A chat model. " + "x" * 1000,
            }
        ]
    )
    (text,) = model_text(models)
    assert text.startswith(
        "meta llama Llama 2 7b chat hf transformers llama2 HuggingFaceH4/ultrachat_200k "
        "text-generation transformers "
        "A chat model."
    )
    for dropped in (
        "base_model",
        "region",
        "us",
        "arxiv",
        "2307.09288",
        "doi",
        "license:",
        "dataset:",
    ):
        assert dropped not in text.split()
        assert "license:" not in text and "dataset:" not in text
    card_part = text[text.index("A chat model.") :]
    assert len(card_part) == CARD_TEXT_CHARS


def test_model_text_handles_nulls_empty_lists_and_keeps_order():
    models = models_frame(
        [
            {"model_id": "b/second", "card_excerpt": "  spaced   out  "},
            {"model_id": "a/first", "tags": ["region:us"]},
            {"model_id": "c/third", "tags": ["gguf"], "pipeline_tag": "text-generation"},
        ]
    )
    assert model_text(models) == ["b second spaced out", "a first", "c third gguf text-generation"]


def test_model_text_accepts_plain_object_columns_and_chunks():
    plain = pd.DataFrame(
        {
            "model_id": ["x/one", "y/two", "z/three"],
            "tags": [["license:mit", None], None, []],
            "pipeline_tag": [None, "fill-mask", None],
            "library_name": ["timm", None, None],
            "card_excerpt": [None, "card", ""],
        }
    )
    assert model_text(plain, chunk_rows=2) == ["x one mit timm", "y two fill-mask card", "z three"]


def test_model_text_of_no_models_is_empty():
    assert model_text(models_frame([])) == []


def test_card_template_placeholders_are_not_embedded():
    models = models_frame(
        [
            {
                "model_id": "a/b",
                "card_excerpt": "Model Details <!-- Provide a summary. --> Developed by: [More "
                "Information Needed] Alice. "
                "## Model description More information needed",
            }
        ]
    )
    (text,) = model_text(models)
    assert text == "a b Model Details Developed by: Alice. ## Model description"
