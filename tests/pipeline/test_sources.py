"""Sources: every supported input ends as the same normalized model table."""

import gzip
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.report import IssueLog
from pipeline.schema import MODEL_COLUMNS
from pipeline.sources import SourceError, load_source
from pipeline.sources.family_exports import read_export
from pipeline.sources.normalize import (
    clean_model_id,
    clean_model_ids,
    normalize_batch,
    parents_from_tags,
    parse_list,
)
from pipeline.sources.published import hf_dataset_batches

LIST_COLUMNS_PUBLISHED = [
    "tags",
    "regions",
    "licenses",
    "arxiv_papers",
    "datasets",
    "parent_model",
    "finetune_parent",
    "quantized_parent",
    "adapter_parent",
    "merge_parent",
    "languages",
]


def _load(path, log=None):
    return load_source(str(path), log or IssueLog())


def _as_csv(frame: pd.DataFrame, path):
    """Write like the published CSV exports: list columns in their Python string form."""
    out = frame.copy()
    for column in LIST_COLUMNS_PUBLISHED:
        out[column] = out[column].map(lambda v: repr([str(x) for x in v]))
    out.to_csv(path, index=False)
    return path


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame.astype(object)
        .where(frame.notna(), None)
        .map(lambda v: list(v) if isinstance(v, list) else v)
    )


# --- the bundled sample ---------------------------------------------------------------


def test_bundled_sample_is_the_default_and_keeps_every_real_row(shared_data, sample_published):
    models = load_source(None, IssueLog())
    exports = {
        clean_model_id(row["model_id"])[0]
        for path in shared_data.glob("*_tree.csv")
        for row in read_export(path)
    }
    assert list(models.columns) == list(MODEL_COLUMNS)
    assert set(models["model_id"]) == exports
    assert len(models) == 1271
    assert not models["model_id"].str.startswith("http").any()


def test_bundled_sample_keeps_numbers_as_exported(shared_data):
    models = load_source("sample", IssueLog()).set_index("model_id")
    rows = read_export(shared_data / "gemma_7b_tree.csv")
    checked = 0
    for row in rows:
        try:
            record = json.loads(row["metadata"])
        except json.JSONDecodeError:
            continue
        model = models.loc[record["id"]]
        assert model["downloads"] == record["downloads"]
        assert model["likes"] == record["likes"]
        assert (None if pd.isna(model["library_name"]) else model["library_name"]) == record[
            "library_name"
        ]
        checked += 1
    assert checked == 349


def test_rows_without_a_hub_record_get_their_parent_from_child_lists():
    models = load_source("sample", IssueLog()).set_index("model_id")
    row = models.loc["Telugu-LLM-Labs/Indic-gemma-7b-finetuned-sft-Navarasa-2.0"]
    assert list(row["finetune_parent"]) == ["google/gemma-7b"]
    assert pd.isna(row["downloads"])  # unknown, not zero


# --- published schema: Parquet, CSV, datasets -----------------------------------------------


def test_parquet_csv_and_datasets_give_the_same_table(tmp_path, sample_published):
    subset = sample_published.head(200)
    parquet = tmp_path / "models.parquet"
    subset.to_parquet(parquet)
    csv = _as_csv(subset, tmp_path / "models.csv")

    from_parquet = _load(parquet)
    from_csv = _load(csv)
    log = IssueLog()
    _, batches = hf_dataset_batches("parquet", data_files=str(parquet))
    from_datasets = pd.concat(
        [normalize_batch(b, log).to_pandas(types_mapper=pd.ArrowDtype) for b in batches],
        ignore_index=True,
    )
    assert len(from_parquet) == 200
    pd.testing.assert_frame_equal(_comparable(from_parquet), _comparable(from_csv))
    pd.testing.assert_frame_equal(_comparable(from_parquet), _comparable(from_datasets))
    assert not any(log.to_dict().values())


def test_hf_source_reports_a_clear_error_when_the_hub_cannot_be_reached():
    with pytest.raises(SourceError, match="could not be loaded"):
        load_source("hf:modelbiome/ai_ecosystem_withmodelcards", IssueLog())


def test_lineage_from_tags_when_parent_columns_are_absent(tmp_path, sample_published):
    subset = sample_published.drop(
        columns=[
            "parent_model",
            "finetune_parent",
            "quantized_parent",
            "adapter_parent",
            "merge_parent",
        ]
    )
    path = tmp_path / "no_parents.parquet"
    subset.to_parquet(path)
    with_tags = _load(path).set_index("model_id")
    full = load_source("sample", IssueLog()).set_index("model_id")
    has_record = sample_published.set_index("model_id")["tags"].map(len) > 0
    for column in ("parent_model", "finetune_parent"):
        assert with_tags.loc[has_record, column].tolist() == full.loc[has_record, column].tolist()


def test_parent_columns_win_over_tags(tmp_path):
    table = pa.table(
        {
            "model_id": ["a/child"],
            "tags": [["base_model:finetune:x/from-tag"]],
            "finetune_parent": [["x/from-column"]],
        }
    )
    pq.write_table(table, tmp_path / "m.parquet")
    models = _load(tmp_path / "m.parquet")
    assert models["finetune_parent"].iloc[0] == ["x/from-column"]
    assert models["parent_model"].iloc[0] == ["x/from-tag"]  # column absent -> from tags


# --- Hub API JSON Lines -----------------------------------------------------------------


def _hub_records(shared_data):
    """Real Hub API records from the exports, with the card text in `card`."""
    records = []
    for row in read_export(shared_data / "llama2_7b_tree.csv"):
        try:
            record = json.loads(row["metadata"])
        except json.JSONDecodeError:
            continue
        record["card"] = row.get("card") or None
        records.append(record)
    return records


def test_hub_jsonl_records_load_with_lineage_from_tags(tmp_path, shared_data):
    records = _hub_records(shared_data)
    path = tmp_path / "hub.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    models = _load(path).set_index("model_id")
    assert len(models) == len(records) == 91
    first = records[1]
    model = models.loc[first["id"]]
    assert model["downloads"] == first["downloads"]
    assert model["author"] == first["author"]
    assert list(model["finetune_parent"]) == [
        t.split(":", 2)[2]
        for t in parse_list(first["tags"])[0]
        if t.startswith("base_model:finetune:")
    ]
    assert model["created_at"] == pd.Timestamp(first["created_at"])
    assert model["has_card"] == bool(first["card"])


def test_hub_jsonl_api_field_names_and_gzip(tmp_path):
    record = {
        "modelId": "org/model",
        "author": "org",
        "downloads": 5,
        "likes": 2,
        "trendingScore": 1.5,
        "tags": [
            "transformers",
            "license:mit",
            "en",
            "fr",
            "base_model:adapter:base/model",
            "region:us",
        ],
        "pipeline_tag": "text-generation",
        "library_name": "peft",
        "createdAt": "2024-03-01T10:00:00.000Z",
        "cardData": {"license": "mit"},
        "siblings": [{"rfilename": "README.md"}],
    }
    path = tmp_path / "hub.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(record) + "\n")
    model = _load(path).iloc[0]
    assert model["model_id"] == "org/model"
    assert model["trending_score"] == 1.5
    assert model["licenses"] == ["mit"]
    assert model["languages"] == ["en", "fr"]
    assert model["adapter_parent"] == ["base/model"]
    assert model["parent_model"] == ["base/model"]
    assert model["regions"] == ["us"]
    assert pd.isna(model["has_card"]) and pd.isna(
        model["card_length"]
    )  # the record says nothing of a card


# --- whole-column cleaning -----------------------------------------------------------------


def _normalized(columns: dict, log: IssueLog | None = None) -> dict:
    return normalize_batch(pa.table(columns), log or IssueLog()).to_pydict()


def test_arrow_lists_are_stripped_with_empty_values_dropped_and_null_lists_empty():
    log = IssueLog()
    models = _normalized(
        {
            "model_id": ["a/one", "a/two", "a/three"],
            "tags": pa.array(
                [[" en ", None, "", "\u3000", "license:mit"], None, []], pa.list_(pa.string())
            ),
            "datasets": pa.array([["x"], None, [" y ", " "]], pa.large_list(pa.large_string())),
            "regions": pa.array([None, [], None], pa.list_(pa.null())),
        },
        log,
    )
    assert models["tags"] == [["en", "license:mit"], [], []]
    assert models["datasets"] == [["x"], [], ["y"]]
    assert models["regions"] == [[], [], []]
    assert not any(log.to_dict().values())


def test_columns_missing_from_the_source_are_derived_from_tags():
    tags = [
        "en",
        "EN",
        "\u00e9a",
        "\u4e2d\u6587",
        "a1",
        "zh",
        "tf",
        "jp",
        "xx",
        "bh",
        "region:us",
        "arxiv:2401.1",
        "dataset:d/x",
        "license:",
        "base_model:p/q",
    ]
    models = _normalized(
        {"model_id": ["a/b", "a/c"], "tags": pa.array([tags, None], pa.list_(pa.string()))}
    )
    # ISO 639-1 codes only: not TensorFlow's "tf", nor "jp", "xx", "EN" or "\u00e9a"
    assert models["languages"] == [["en", "zh", "bh"], []]
    assert models["regions"] == [["us"], []]
    assert models["arxiv_papers"] == [["2401.1"], []]
    assert models["datasets"] == [["d/x"], []]
    assert models["licenses"] == [[""], []]
    assert models["parent_model"] == [["p/q"], []]
    assert models["finetune_parent"] == [[], []]


def test_hub_url_ids_lose_their_prefix_and_are_counted():
    raw = [
        "https://huggingface.co/org/a",
        " http://huggingface.co//org/b/ ",
        "huggingface.co/org/c",
        "\u3000org/d\n",
        "HTTPS://huggingface.co/x",
        "https://huggingface.co/",
        "single",
        None,
    ]
    ids, was_url = clean_model_ids(pa.chunked_array([pa.array(raw, pa.string())]))
    assert list(zip(ids.to_pylist(), was_url.to_pylist())) == [clean_model_id(v) for v in raw]
    assert ids.to_pylist() == [
        "org/a",
        "org/b",
        "org/c",
        "org/d",
        "HTTPS://huggingface.co/x",
        None,
        "single",
        None,
    ]

    log = IssueLog()
    models = _normalized(
        {"model_id": raw, "author": [None, " ", "me", None, None, None, None, None]}, log
    )
    assert models["author"] == ["org", "org", "me", "org", "HTTPS:", None]
    assert log.count("repaired", "model_id given as a Hub URL") == 4
    assert log.count("rejected", "row without model_id") == 2


def test_flags_from_booleans_or_text():
    models = _normalized({"model_id": list("abcde"), "private": [" TRUE ", "1", "0", "yes", None]})
    assert models["private"] == [True, True, False, False, False]
    models = _normalized({"model_id": list("abc"), "private": [True, None, False]})
    assert models["private"] == [True, False, False]


def test_binary_cards_are_decoded_with_invalid_utf8_replaced():
    models = _normalized(
        {"model_id": ["a/b", "a/c"], "modelCard": pa.array([b"caf\xe9 card", None], pa.binary())}
    )
    assert models["card_excerpt"] == ["caf\ufffd card", None]
    assert models["has_card"] == [True, False]
    assert models["card_length"] == [9, 0]


def test_batches_in_several_chunks_give_the_same_table(sample_published):
    table = pa.Table.from_pandas(sample_published.head(300), preserve_index=False)
    chunked = pa.concat_tables([table.slice(0, 101), table.slice(101, 1), table.slice(102)])
    assert chunked.column("modelCard").num_chunks == 3
    assert normalize_batch(chunked, IssueLog()).equals(normalize_batch(table, IssueLog()))


# --- bad input: counted, never a crash -----------------------------------------------------------


def test_bad_rows_are_counted_with_examples(tmp_path):
    huge_card = "# big\n" + "x" * 1_200_000
    table = pa.table(
        {
            "model_id": [
                "ok/one",
                None,
                "  ",
                "ok/one",
                "https://huggingface.co/url/id",
                "bad/counts",
                "bad/list",
                "odd/relation",
                "big/card",
            ],
            "likes": ["1", "2", "3", "4", "5", "many", "0", "0", "0"],
            "downloads": ["10", "0", "0", "0", "7", "-3", "0", "0", "0"],
            "tags": [
                "['a']",
                "[]",
                "[]",
                "[]",
                "[]",
                "[]",
                "['unclosed",
                "['base_model:distill:p/q']",
                "[]",
            ],
            "createdAt": ["2024-01-01", None, None, None, None, "not a date", None, None, None],
            "modelCard": [None] * 8 + [huge_card],
        }
    )
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    log = IssueLog()
    models = _load(path, log).set_index("model_id")

    assert list(models.index) == [
        "ok/one",
        "url/id",
        "bad/counts",
        "bad/list",
        "odd/relation",
        "big/card",
    ]
    assert models.loc["ok/one", "likes"] == 1  # first of the duplicates kept
    assert pd.isna(models.loc["bad/counts", "likes"]) and pd.isna(
        models.loc["bad/counts", "downloads"]
    )
    assert models.loc["bad/list", "tags"] == []
    assert models.loc["odd/relation", "parent_model"] == ["p/q"]
    assert models.loc["big/card", "card_length"] == len(huge_card)
    assert len(models.loc["big/card", "card_excerpt"]) <= 512

    report = log.to_dict()
    assert report["rejected"]["row without model_id"]["count"] == 2
    assert report["rejected"]["duplicate model_id (first row kept)"] == {
        "count": 1,
        "examples": ["ok/one"],
    }
    assert report["repaired"]["model_id given as a Hub URL"]["count"] == 1
    assert report["repaired"]["likes not a number (set to null)"]["examples"] == ["bad/counts"]
    assert report["repaired"]["downloads negative (set to null)"]["count"] == 1
    assert report["repaired"]["unparseable createdAt (set to null)"]["count"] == 1
    assert report["repaired"]["malformed list in tags"]["count"] == 1
    assert (
        report["repaired"]["unknown base_model relation tag (kept as unspecified parent)"]["count"]
        == 1
    )
    assert (
        report["repaired"]["card over 1,000,000 characters (only its head analysed)"]["count"] == 1
    )


def test_non_utf8_and_broken_lines_are_repaired_or_counted(tmp_path):
    csv = tmp_path / "latin1.csv"
    csv.write_bytes(
        b"model_id,likes,modelCard\n"
        b"good/one,1,plain card\n"
        b"bad/bytes,2,caf\xe9 card\n"
        b"too,many,fields,here\n"
    )
    log = IssueLog()
    models = _load(csv, log)
    assert sorted(models["model_id"]) == ["bad/bytes", "good/one"]
    assert "\ufffd" in models.set_index("model_id").loc["bad/bytes", "card_excerpt"]
    assert log.count("repaired", "invalid UTF-8 replaced") == 1
    assert log.count("rejected", "CSV line with the wrong number of fields") == 1

    jsonl = tmp_path / "hub.jsonl"
    jsonl.write_bytes(b'{"id": "a/b", "card": "caf\xe9"}\n{not json\n[1, 2]\n\n{"id": "c/d"}\n')
    log = IssueLog()
    models = _load(jsonl, log)
    assert sorted(models["model_id"]) == ["a/b", "c/d"]
    assert log.count("repaired", "invalid UTF-8 replaced") == 1
    assert log.count("rejected", "line is not valid JSON") == 1
    assert log.count("rejected", "line is not a JSON object") == 1


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.parquet", None, "does not exist"),
        ("empty.parquet", b"", "is empty"),
        ("garbage.parquet", b"this is not parquet at all", "not a readable Parquet file"),
        ("models.xlsx", b"PK", "unknown format"),
        ("noids.jsonl", b'{"likes": 3}\n', "holds no model rows"),
        ("broken.jsonl.gz", b"\x1f\x8b\x08\x00 truncated", "could not be read"),
    ],
)
def test_unreadable_sources_raise_one_clear_sentence(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as error:
        _load(path)
    assert "\n" not in str(error.value)


def test_parse_list_accepts_every_form_of_none_and_never_evaluates_code():
    assert parse_list(None) == ([], False)
    assert parse_list(float("nan")) == ([], False)
    assert parse_list("") == ([], False)
    assert parse_list("[]") == ([], False)
    assert parse_list("['a', 'b']") == (["a", "b"], False)
    assert parse_list(["a", None, " "]) == (["a"], False)
    assert parse_list("__import__('os').system('echo pwned')") == ([], True)
    assert parse_list("[__import__('os')]") == ([], True)


def test_parents_from_tags_by_relation():
    parents, unknown = parents_from_tags(
        [
            "base_model:a/plain",
            "base_model:finetune:a/ft",
            "base_model:quantized:a/q",
            "base_model:adapter:a/ad",
            "base_model:merge:a/m1",
            "base_model:merge:a/m2",
            "base_model:weird:a/w",
            "en",
        ]
    )
    assert parents["finetune_parent"] == ["a/ft"]
    assert parents["quantized_parent"] == ["a/q"]
    assert parents["adapter_parent"] == ["a/ad"]
    assert parents["merge_parent"] == ["a/m1", "a/m2"]
    assert parents["parent_model"] == ["a/plain", "a/ft", "a/q", "a/ad", "a/m1", "a/m2", "a/w"]
    assert unknown == ["base_model:weird:a/w"]
