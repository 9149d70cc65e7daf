"""Hostile input, from small files each test writes: every odd value ends as a correct value or
as null / a rejected row that is counted, never as a crash or a silently wrong value."""

import gzip
import json
import tempfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.report import IssueLog
from pipeline.sources import SourceError, load_source
from pipeline.sources.normalize import parse_count

INT64_MIN = -(2**63)
THUMBS_UP = "\U0001f44d"  # 👍, outside the Basic Multilingual Plane


def _load(path, log=None):
    """The source read as a build reads it. A JSON Lines source is read three times: without a
    row store, into a new one, and again from it (only its unchanged lines carried): all three
    must give the same table and the same issues."""
    log = log if log is not None else IssueLog()
    if not str(path).endswith((".jsonl", ".jsonl.gz")):
        return load_source(str(path), log).set_index("model_id"), log
    with tempfile.TemporaryDirectory() as cache:
        reads = [
            (load_source(str(path), read_log, cache_dir=cache_dir), read_log)
            for cache_dir, read_log in (
                (None, IssueLog()),
                (cache, IssueLog()),
                (cache, IssueLog()),
            )
        ]
    (fresh, fresh_log), *stored = reads
    for models, read_log in stored:
        pd.testing.assert_frame_equal(models, fresh)
        assert read_log.to_dict() == fresh_log.to_dict()
        assert read_log.columns_dict() == fresh_log.columns_dict()
    log.merge(fresh_log)
    return fresh.set_index("model_id"), log


def _jsonl(path, records, escaped=True):
    """One JSON text per line: records given as dicts (json.dumps, ASCII escapes when escaped)
    or as ready-made text."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=escaped) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- characters outside the BMP and lone surrogates ------------------------------------------


@pytest.mark.parametrize("escaped", [True, False], ids=["surrogate-pair escapes", "literal"])
def test_emoji_in_ids_and_tags_are_kept_as_the_real_character(tmp_path, escaped):
    records = [
        {
            "id": f"smile/{THUMBS_UP}-model",
            "tags": ["merge", THUMBS_UP, f"base_model:org/{THUMBS_UP}"],
            "likes": 1,
        },
        {"id": f"org/{THUMBS_UP}", "tags": [], "likes": 2},
    ]
    path = _jsonl(tmp_path / "emoji.jsonl", records, escaped=escaped)
    if escaped:
        assert "\\ud83d\\udc4d" in path.read_text()
    models, log = _load(path)
    assert list(models.index) == [f"smile/{THUMBS_UP}-model", f"org/{THUMBS_UP}"]
    row = models.loc[f"smile/{THUMBS_UP}-model"]
    assert list(row["tags"]) == ["merge", THUMBS_UP, f"base_model:org/{THUMBS_UP}"]
    assert list(row["parent_model"]) == [f"org/{THUMBS_UP}"]
    assert log.count("repaired") == 0 and log.count("rejected") == 0


def test_lone_surrogates_are_replaced_and_counted(tmp_path):
    lines = [
        '{"id": "a/lone", "author": "x\\ud83d", "tags": ["ok", "bad\\udc4d"]}',
        '{"id": "b/\\ud800fine", "tags": []}',
    ]
    models, log = _load(_jsonl(tmp_path / "lone.jsonl", lines))
    assert models.loc["a/lone", "author"] == "x\ufffd"
    assert list(models.loc["a/lone", "tags"]) == ["ok", "bad\ufffd"]
    assert "b/\ufffdfine" in models.index
    assert log.count("repaired", "lone surrogate replaced") == 2
    assert log.count("repaired", "malformed list in tags") == 1


def test_surrogate_escapes_in_a_csv_list_cell_are_joined(tmp_path):
    path = tmp_path / "lists.csv"
    path.write_text("model_id,tags\nm/one,\"['\\ud83d\\udc4d', 'x']\"\n", encoding="utf-8")
    assert "['\\ud83d\\udc4d', 'x']" in path.read_text()
    models, log = _load(path)
    assert list(models.loc["m/one", "tags"]) == [THUMBS_UP, "x"]


# --- numbers ------------------------------------------------------------------------------------

BAD_COUNTS = {
    "huge/float": (1e300, "out of range"),
    "big/float": (1e23, "out of range"),
    "two/pow63": (2**63, "out of range"),
    "uint64/max": (2**64 - 1, "out of range"),
    "many/digits": (None, "out of range"),  # written below as a 5,000-digit integer
    "half/way": (3.5, "not a whole number"),
    "below/zero": (-4, "negative"),
    "yes/no": (True, "not a number"),
    "in/list": ([7], "not a number"),
    "word/text": ("many", "not a number"),
}
GOOD_COUNTS = {
    "plain/int": (42, 42),
    "whole/float": (3.0, 3),
    "as/text": ("17", 17),
    "max/int64": (2**63 - 1, 2**63 - 1),
}


def test_counts_out_of_range_or_mistyped_in_json_become_null_and_are_counted(tmp_path):
    lines = []
    for model_id, (value, _) in {**BAD_COUNTS, **GOOD_COUNTS}.items():
        text = "1" * 5000 if model_id == "many/digits" else json.dumps(value)
        lines.append(f'{{"id": "{model_id}", "downloads": {text}, "likes": 1}}')
    models, log = _load(_jsonl(tmp_path / "counts.jsonl", lines))

    assert len(models) == len(BAD_COUNTS) + len(GOOD_COUNTS)
    for model_id in BAD_COUNTS:
        assert pd.isna(models.loc[model_id, "downloads"]), model_id
    for model_id, (_, expected) in GOOD_COUNTS.items():
        assert models.loc[model_id, "downloads"] == expected, model_id
    assert (models["downloads"].dropna() >= 0).all() and INT64_MIN not in set(
        models["downloads"].dropna()
    )
    for problem in ("out of range", "not a whole number", "negative", "not a number"):
        expected = sum(p == problem for _, p in BAD_COUNTS.values())
        assert log.count("repaired", f"downloads {problem} (set to null)") == expected, problem
    assert log.count("repaired", "downloads written as text (read as a number)") == 1


def test_counts_in_parquet_columns_of_every_numeric_type(tmp_path):
    table = pa.table(
        {
            "model_id": ["a/1", "a/2", "a/3", "a/4"],
            "likes": pa.array([1, 2**64 - 1, None, 2**63], pa.uint64()),
            "downloads": pa.array([1e300, 3.5, float("nan"), 12.0], pa.float64()),
            "trendingScore": pa.array(["1.5", "1e400", "-2", " 7 "], pa.string()),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    models, log = _load(tmp_path / "typed.parquet")
    assert models["likes"].tolist()[0] == 1 and models["likes"].isna().tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert (
        models["downloads"].isna().tolist() == [True, True, True, False]
        and models.loc["a/4", "downloads"] == 12
    )
    assert models.loc["a/1", "trending_score"] == 1.5 and models.loc["a/4", "trending_score"] == 7.0
    assert models["trending_score"].isna().tolist() == [False, True, True, False]
    assert log.count("repaired", "likes out of range (set to null)") == 2
    assert log.count("repaired", "downloads out of range (set to null)") == 1
    assert log.count("repaired", "downloads not a whole number (set to null)") == 1
    assert log.count("repaired", "trendingScore out of range (set to null)") == 1
    assert log.count("repaired", "trendingScore negative (set to null)") == 1


def test_counts_written_as_text_in_a_csv(tmp_path):
    path = tmp_path / "counts.csv"
    digits = "9" * 5000
    path.write_text(
        "model_id,likes,downloads\n"
        f"c/1,12,{digits}\n"
        "c/2,9223372036854775808,18446744073709551615\n"
        "c/3,1e23,7.0\n"
        "c/4, 5 ,1e3\n"
    )
    models, log = _load(path)
    assert models["likes"].isna().tolist() == [False, True, True, False]
    assert models.loc["c/4", "likes"] == 5 and models.loc["c/4", "downloads"] == 1000
    assert models.loc["c/3", "downloads"] == 7
    assert models["downloads"].isna().tolist() == [True, True, False, False]
    assert log.count("repaired", "likes out of range (set to null)") == 2
    assert log.count("repaired", "downloads out of range (set to null)") == 2


def test_parse_count_rules():
    assert parse_count(" 12 ") == (12, None)
    assert parse_count("nan") == (None, None) and parse_count(float("nan")) == (None, None)
    assert parse_count(2**63 - 1) == (2**63 - 1, None)
    assert parse_count(2**63) == (None, "out of range")
    assert parse_count(float("inf")) == (None, "out of range")
    assert parse_count("0" * 30 + "5") == (5, None)
    assert parse_count(False) == (None, "not a number")
    assert parse_count(2.5, integer=False) == (2.5, None)


# --- ids ------------------------------------------------------------------------------------------


def test_jsonl_ids_that_are_not_text_are_rejected_and_counted(tmp_path):
    lines = [
        '{"id": 123}',
        '{"id": ["a/b"]}',
        '{"id": true}',
        '{"id": {"x": 1}}',
        '{"id": "ok/model"}',
        '{"likes": 3}',
    ]
    models, log = _load(_jsonl(tmp_path / "ids.jsonl", lines))
    assert list(models.index) == ["ok/model"]
    assert log.count("rejected", "model_id is not text") == 4
    assert log.count("rejected", "row without model_id") == 1


def test_ids_with_control_characters_are_rejected_and_counted(tmp_path):
    lines = [
        json.dumps({"id": i})
        for i in ("esc/\x1b[31mred", "nul/\x00x", "tab/\tx", "c1/\x85x", "good/[bold]x[/]")
    ]
    models, log = _load(_jsonl(tmp_path / "control.jsonl", lines))
    assert list(models.index) == ["good/[bold]x[/]"]
    assert log.count("rejected", "model_id holds a control character") == 4

    lines = [
        json.dumps({"id": "kid/one", "tags": ["base_model:esc/\x1b[2J", "base_model:fine/parent"]})
    ]
    models, log = _load(_jsonl(tmp_path / "parents.jsonl", lines))
    assert list(models.loc["kid/one", "parent_model"]) == ["fine/parent"]
    assert log.count("dropped", "parent id holds a control character") == 1


def test_text_fields_of_the_wrong_type_become_null_and_are_counted(tmp_path):
    lines = [
        json.dumps(
            {
                "id": "w/1",
                "library_name": ["a"],
                "pipeline_tag": 5,
                "author": {"x": 1},
                "createdAt": 17,
                "tags": "not-a-list",
            }
        )
    ]
    models, log = _load(_jsonl(tmp_path / "types.jsonl", lines))
    row = models.loc["w/1"]
    assert (
        pd.isna(row["library_name"]) and pd.isna(row["pipeline_tag"]) and pd.isna(row["created_at"])
    )
    assert row["author"] == "w" and list(row["tags"]) == []
    for field in ("library_name", "pipeline_tag", "author", "createdAt"):
        assert log.count("repaired", f"{field} is not text (set to null)") == 1, field
    assert log.count("repaired", "malformed list in tags") == 1


def test_parquet_binary_and_invalid_utf8_text_is_decoded_not_shown_as_bytes(tmp_path):
    table = pa.table(
        {
            "model_id": pa.array([b"bin/one", b"bin/caf\xe9"], pa.binary()),
            "library_name": pa.array([b"transformers", None], pa.large_binary()),
            "tags": pa.array([[b"x", b"y"], [b"z\xff"]], pa.list_(pa.binary())),
        }
    )
    pq.write_table(table, tmp_path / "binary.parquet")
    models, log = _load(tmp_path / "binary.parquet")
    assert list(models.index) == ["bin/one", "bin/caf\ufffd"]
    assert models.loc["bin/one", "library_name"] == "transformers"
    assert list(models.loc["bin/one", "tags"]) == ["x", "y"] and list(
        models.loc["bin/caf\ufffd", "tags"]
    ) == ["z\ufffd"]
    assert not any(str(v).startswith("b'") for v in models.index)
    assert log.count("repaired", "invalid UTF-8 in model_id replaced") == 1
    assert log.count("repaired", "invalid UTF-8 in tags replaced") == 1


def test_parquet_ids_of_a_number_type_are_rejected_and_counted(tmp_path):
    pq.write_table(
        pa.table({"model_id": pa.array([1, 2], pa.int64()), "likes": [1, 2]}),
        tmp_path / "int_ids.parquet",
    )
    with pytest.raises(SourceError, match="holds no model rows"):
        _load(tmp_path / "int_ids.parquet")


def test_a_corrupt_parquet_row_group_is_skipped_and_its_rows_counted(tmp_path):
    path = tmp_path / "corrupt.parquet"
    table = pa.table(
        {"model_id": [f"m/{i:03d}" for i in range(300)], "card": ["card text " * 50] * 300}
    )
    pq.write_table(table, path, row_group_size=100, compression="none")
    metadata = pq.read_metadata(path)
    column = metadata.row_group(1).column(1)  # the second group's card column
    data = bytearray(path.read_bytes())
    start = column.data_page_offset + 20
    data[start : start + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))

    models, log = _load(path)
    assert (
        len(models) == 200
        and "m/000" in models.index
        and "m/250" in models.index
        and "m/150" not in models.index
    )
    assert log.count("rejected", "rows in an unreadable Parquet row group (corrupt page)") == 100


def test_a_file_that_is_not_parquet_is_one_sentence(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"PAR1 nothing to see PAR1")
    with pytest.raises(SourceError, match="fake.parquet is not a readable Parquet file"):
        _load(path)


# --- CSV, JSON structure ------------------------------------------------------------------------


def test_a_csv_row_that_swallows_the_rows_after_it_is_detected_and_counted(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(
        "model_id,author,likes\n"
        "ok/one,alice,1\n"
        '"bad/quote,bob,2\n'
        "lost/one,carol,3\n"
        'lost/two,dan",4\n'
        "ok/two,erin,5\n"
    )
    models, log = _load(path)
    assert "ok/one" in models.index and "ok/two" in models.index
    assert not any("\n" in i for i in models.index)
    assert log.count("rejected", "CSV row spanning several lines (an unbalanced quote?)") == 1
    assert (
        "swallowed 2 line(s)"
        in log.to_dict()["rejected"]["CSV row spanning several lines (an unbalanced quote?)"][
            "examples"
        ][0]
    )


def test_a_card_that_swallows_the_rows_after_it_is_detected_and_counted(tmp_path):
    path = tmp_path / "card.csv"
    path.write_text(
        "model_id,likes,modelCard\n"
        'a/1,1,"good card\nwith two lines, and a comma"\n'
        'a/2,2,"bad card\n'
        'a/3,3,"next ""quoted"" card"\n'
        "a/4,4,plain\n"
    )
    models, log = _load(path)
    assert list(models.index) == ["a/1", "a/4"]
    assert models.loc["a/1", "card_length"] == len("good card\nwith two lines, and a comma")
    assert log.count("rejected", "CSV row spanning several lines (an unbalanced quote?)") == 1


def test_a_csv_quote_left_open_to_the_end_is_one_sentence_naming_the_file(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('model_id,likes\nok/one,1\n"never closed,2\nmore,3\n')
    with pytest.raises(SourceError, match="open.csv"):
        _load(path)


def test_json_nested_thousands_of_levels_deep_is_rejected_not_a_crash(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        f'{{"id": "deep/one", "tags": {deep}}}',
        '{"id": "fine/one"}',
        f'{{"id": "deep/two", "x": {"{" * 50_000}',
    ]
    models, log = _load(_jsonl(tmp_path / "deep.jsonl", lines))
    assert list(models.index) == ["fine/one"]
    assert log.count("rejected") == 2


def test_csv_list_cells_nested_deeply_are_malformed_lists(tmp_path):
    path = tmp_path / "deep.csv"
    path.write_text("model_id,tags\n" + 'd/1,"' + "[" * 5000 + "]" * 5000 + '"\n')
    models, log = _load(path)
    assert list(models.loc["d/1", "tags"]) == []
    assert log.count("repaired", "malformed list in tags") == 1


# --- family exports -------------------------------------------------------------------------------


def _export(path, rows, columns=("model_id", "card", "depth", "children", "metadata")):
    frame = pd.DataFrame(rows, columns=list(columns))
    frame.to_csv(path, index=False)
    return path


def test_a_family_export_with_bad_metadata_and_a_row_without_id(tmp_path):
    rows = [
        [
            "https://huggingface.co/base/model",
            "card",
            0,
            "https://huggingface.co/kid/one",
            json.dumps({"tags": ["en"], "likes": 5}),
        ],
        [
            "kid/one",
            "",
            1,
            "",
            json.dumps(
                {
                    "tags": "not-a-list",
                    "likes": "many",
                    "downloads": [1],
                    "private": "yes",
                    "author": 7,
                    "createdAt": {"a": 1},
                }
            ),
        ],
        ["kid/two", "", 1, "", json.dumps([1, 2, 3])],
        ["kid/three", "", 1, "", "[" * 50_000],
        ["", "", 1, "", json.dumps({"tags": []})],
        ["kid/four", "", 1, "", json.dumps({"likes": 2**70, "tags": [1, "ok", None]})],
    ]
    models, log = _load(_export(tmp_path / "odd_tree.csv", rows))
    assert sorted(models.index) == ["base/model", "kid/four", "kid/one", "kid/three", "kid/two"]
    assert models.loc["base/model", "likes"] == 5 and list(
        models.loc["base/model", "languages"]
    ) == ["en"]
    kid = models.loc["kid/one"]
    assert (
        pd.isna(kid["likes"])
        and pd.isna(kid["downloads"])
        and list(kid["tags"]) == []
        and kid["author"] == "kid"
    )
    assert (
        list(kid["parent_model"]) == []
    )  # its record says nothing of base/model (its tags are broken)
    assert list(models.loc["kid/two", "parent_model"]) == []
    assert pd.isna(models.loc["kid/four", "likes"]) and list(models.loc["kid/four", "tags"]) == [
        "ok"
    ]
    assert log.count("rejected", "export row without model_id") == 1
    assert (
        log.count("repaired", "export metadata is not a JSON object (row kept without its record)")
        == 2
    )
    assert log.count("repaired", "likes not a number (set to null)") == 1
    assert log.count("repaired", "likes out of range (set to null)") == 1
    assert log.count("repaired", "downloads not a number (set to null)") == 1
    assert log.count("repaired", "malformed list in tags") == 2


def test_a_family_export_whose_metadata_column_is_the_last_one(tmp_path):
    rows = [
        [
            "base/m",
            "a card",
            0,
            "https://huggingface.co/kid/m",
            json.dumps({"tags": [], "downloads": 3}),
        ],
        ["kid/m", "", 1, "", json.dumps({"tags": ["base_model:finetune:base/m"], "downloads": 1})],
    ]
    path = _export(tmp_path / "last_tree.csv", rows)
    assert path.read_text().splitlines()[0].endswith(",metadata")
    models, log = _load(path)
    assert models.loc["base/m", "downloads"] == 3 and models.loc["base/m", "card_length"] == len(
        "a card"
    )
    assert list(models.loc["kid/m", "finetune_parent"]) == ["base/m"]
    assert "depth" in log.columns_dict()["unread"]
    # the columns named are the export's own and its records' fields, never the published schema's
    assert log.columns_dict()["read"] == [
        "card",
        "children",
        "metadata",
        "metadata.downloads",
        "metadata.tags",
        "model_id",
    ]


# --- columns hfmap does not read, and other spellings ---------------------------------------------


def test_columns_the_source_holds_but_hfmap_does_not_read_are_named(tmp_path):
    pq.write_table(
        pa.table({"model_id": ["a/b"], "likes": [1], "sha": ["abc"], "gated": [False]}),
        tmp_path / "x.parquet",
    )
    _, log = _load(tmp_path / "x.parquet")
    assert log.columns_dict() == {"read": ["likes", "model_id"], "unread": ["gated", "sha"]}

    lines = [
        json.dumps({"id": "a/b", "likes": 1, "_id": "x", "siblings": []}),
        json.dumps({"id": "c/d", "lastModified": "x"}),
    ]
    _, log = _load(_jsonl(tmp_path / "x.jsonl", lines))
    assert log.columns_dict()["unread"] == ["_id", "lastModified", "siblings"]


def test_the_2022_listing_spellings_give_dates_pipelines_and_cards(tmp_path):
    table = pa.table(
        {
            "modelId": ["bert-base-uncased", "org/unknown-task", "org/no-card"],
            "author": ["huggingface", "org", "org"],
            "creation_time": pa.array(
                [pd.Timestamp("2018-11-14 23:35:08", tz="UTC")] * 3, pa.timestamp("us", tz="UTC")
            ),
            "downloads": [31924518.0, 3.0, float("nan")],
            "has_modelcard": [True, True, False],
            "task_category": ["fill-mask", "unknown", "text-classification"],
            "task_domain": ["nlp", "unknown", "nlp"],
        }
    )
    pq.write_table(table, tmp_path / "2022.parquet")
    models, log = _load(tmp_path / "2022.parquet")
    assert models["created_at"].notna().all()
    assert models.loc["bert-base-uncased", "pipeline_tag"] == "fill-mask" and pd.isna(
        models.loc["org/unknown-task", "pipeline_tag"]
    )
    assert models.loc["bert-base-uncased", "downloads"] == 31924518
    assert models["has_card"].tolist() == [True, True, False]
    assert (
        pd.isna(models.loc["bert-base-uncased", "card_length"])
        and models.loc["org/no-card", "card_length"] == 0
    )
    assert log.columns_dict()["unread"] == ["task_domain"]


def test_a_source_that_says_nothing_of_cards_has_unknown_card_features(tmp_path):
    models, _ = _load(_jsonl(tmp_path / "nocard.jsonl", [{"id": "a/b", "tags": []}]))
    assert pd.isna(models.loc["a/b", "has_card"]) and pd.isna(models.loc["a/b", "card_length"])


def test_real_2022_listing_growth_curve_matches_its_creation_times(shared_data):
    """The growth curve a build reconstructs (models per creation month) is the listing's own."""
    path = shared_data / "hub_models_2022.parquet"
    models, log = _load(path)
    listing = pq.read_table(path, columns=["modelId", "creation_time"]).to_pandas()
    assert len(models) == len(listing) == 74_970

    def by_month(times):
        return times.dt.tz_convert("UTC").dt.strftime("%Y-%m").value_counts().sort_index()

    expected, got = by_month(listing["creation_time"]), by_month(models["created_at"])
    assert got.to_dict() == expected.to_dict() and len(expected) > 40
    assert (
        models["created_at"].isna().sum() == listing["creation_time"].isna().sum() == 173
    )  # the listing gives none
    assert models["pipeline_tag"].notna().sum() == (
        listing.shape[0]
        - (pq.read_table(path).column("task_category").to_pandas() == "unknown").sum()
    )
    assert models["has_card"].sum() > 30_000
    assert log.count("rejected") == 0


def test_a_gzip_file_cut_short_names_the_file_and_line(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(
        (
            "\n".join(json.dumps({"id": f"m/{i}", "tags": ["x"] * 20}) for i in range(5000)) + "\n"
        ).encode()
    )
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"cut\.jsonl\.gz could not be read past line [0-9,]+"):
        _load(path)


def test_json_lines_that_are_not_objects_or_not_json(tmp_path):
    lines = [
        "null",
        "[1, 2]",
        '"text"',
        "{not json",
        '{"id": "ok/x", "likes": NaN}',
        b'{"id": "caf\xe9/x"}'.decode("latin-1"),
    ]
    path = tmp_path / "odd.jsonl"
    path.write_bytes("\n".join(lines[:-1]).encode() + b"\n" + b'{"id": "caf\xe9/x"}\n')
    models, log = _load(path)
    assert list(models.index) == ["ok/x", "caf\ufffd/x"] and pd.isna(models.loc["ok/x", "likes"])
    assert log.count("rejected", "line is not a JSON object") == 3
    assert log.count("rejected", "line is not valid JSON") == 1
    assert log.count("repaired", "invalid UTF-8 replaced") == 1


def test_parquet_columns_of_other_physical_types(tmp_path):
    table = pa.table(
        {
            "model_id": pa.array(["t/1", "t/2"]).dictionary_encode(),
            "tags": pa.array([[1, 2], [3]], pa.list_(pa.int64())),
            "createdAt": pa.array([1_700_000_000, None], pa.int64()),
            "private": pa.array([1.0, 0.0], pa.float64()),
            "library_name": pa.array([["a"], None], pa.list_(pa.string())),
            "likes": pa.array([[1], None], pa.list_(pa.int64())),
        }
    )
    pq.write_table(table, tmp_path / "types.parquet")
    models, log = _load(tmp_path / "types.parquet")
    assert list(models.index) == ["t/1", "t/2"]
    assert models["tags"].map(list).tolist() == [[], []] and models["created_at"].isna().all()
    assert models["library_name"].isna().all() and models["likes"].isna().all()
    assert log.count("repaired", "malformed list in tags") == 2
    assert log.count("repaired", "createdAt is not a time (set to null)") == 1
    assert log.count("repaired", "private is not a flag (set to null)") == 2
    assert log.count("repaired", "library_name is not text (set to null)") == 1
    assert log.count("repaired", "likes not a number (set to null)") == 1


def test_the_garbage_collector_runs_whenever_the_caller_holds_a_batch(tmp_path):
    """The JSONL reader pauses Python's cyclic collector only while it parses records."""
    import gc

    from pipeline.sources import hub_records

    path = _jsonl(tmp_path / "many.jsonl", [{"id": f"m/{i}", "tags": ["x"]} for i in range(2_500)])
    _, batches = hub_records.hub_jsonl_batches(path, IssueLog())
    states = [gc.isenabled() for _ in batches]
    assert states and all(states) and gc.isenabled()
    _, batches = hub_records.hub_jsonl_batches(path, IssueLog())
    next(batches)
    batches.close()  # a caller that stops early
    assert gc.isenabled()
