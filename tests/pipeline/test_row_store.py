"""The row store: a JSONL source read again takes its unchanged lines from the rows kept by the last
read, and gives exactly what a fresh read gives (table, issue counts and examples, columns)."""

import gzip
import json
import logging

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.report import IssueLog
from pipeline.sources import hub_records, load_source, read_source
from pipeline.sources.row_store import INDEX, STORE_DIR, open_store
from pipeline.text import model_text, text_keys

CLEAN = [
    {
        "id": f"org{i % 7}/model-{i}",
        "author": f"org{i % 7}",
        "likes": i,
        "downloads": 10 * i,
        "tags": [
            "transformers",
            "en",
            "license:mit",
            *([f"base_model:finetune:org0/model-{i - 1}"] if i % 3 else []),
        ],
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "createdAt": f"2024-0{1 + i % 9}-1{i % 10}T10:00:00.000Z",
        "_id": str(i),
    }
    for i in range(60)
]
# lines with something to count: repaired values, rejected lines, a link dropped, a duplicate id
HOSTILE = [
    '{"id": "https://huggingface.co/org/urlmodel", "tags": ["base_model:weird:org/x"]}',
    '{"id": 5}',
    "not json",
    "[1, 2]",
    '{"id": "org1/model-1", "likes": "12"}',
    '{"tags": ["no-id"]}',
    '{"id": "c/\\ud800x", "createdAt": "2024-02-30T00:00:00.000Z"}',
    '{"id": "d/e", "createdAt": "yesterday", "extra_field": 1}',
    '{"id": "f/g", "downloads": -3, "likes": 1e300}',
    '{"id": "h/i", "tags": ["base_model:adapter:bad\\u0001parent"]}',
    '{"id": "  ", "likes": 3}',
]


def _write(path, lines) -> None:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())


def _read(path, cache_dir=None):
    log = IssueLog()
    if cache_dir is None:
        return load_source(str(path), log), log
    read = read_source(str(path), log, cache_dir=cache_dir)
    _check_texts(read)
    return read.models, log


def _check_texts(read) -> None:
    """The text keys a read with the store gives (kept ones included) and the texts it gives are
    those of its models."""
    texts = model_text(read.models)
    assert read.text_keys.tolist() == text_keys(texts).tolist()
    assert len(read.texts) == len(texts)
    assert all(given is None or given == text for given, text in zip(read.texts, texts))


def _same(read, fresh) -> None:
    (models, log), (fresh_models, fresh_log) = read, fresh
    pd.testing.assert_frame_equal(models, fresh_models)
    assert log.to_dict() == fresh_log.to_dict()
    assert log.columns_dict() == fresh_log.columns_dict()


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 16 rows, so a listing of a few dozen lines spans several."""
    monkeypatch.setattr(hub_records, "BATCH_ROWS", 16)


@pytest.mark.parametrize("name", ["listing.jsonl", "listing.jsonl.gz"])
def test_a_carried_read_gives_what_a_fresh_read_gives(tmp_path, small_batches, name):
    source, cache = tmp_path / name, tmp_path / "cache"
    lines = [*CLEAN[:20], *HOSTILE, *CLEAN[20:]]
    _write(source, lines)
    fresh = _read(source)
    _same(_read(source, cache), fresh)  # the first read fills the store
    store = open_store(cache)
    assert len(store) == len(CLEAN)  # every clean line, none of the others
    _same(_read(source, cache), fresh)  # the second takes them from it
    log = fresh[1]
    assert log.count("rejected", "row without model_id") == 2
    assert log.to_dict()["rejected"]["row without model_id"]["examples"] == [
        "row 6 of batch",
        "row 11 of batch",
    ]
    assert log.count("repaired", "model_id given as a Hub URL") == 1
    assert log.count("rejected", "duplicate model_id (first row kept)") == 1
    assert log.count("dropped", "parent id holds a control character") == 2  # adapter and parent

    # a day later: lines added before, between and after, one changed, some gone
    changed = dict(CLEAN[5], likes=999)
    day = [
        {"id": "new/first", "tags": ["base_model:org0/model-1"]},
        *CLEAN[:5],
        changed,
        *CLEAN[6:15],
        *HOSTILE[3:],
        {"id": "new/middle", "card": "# A card"},
        *CLEAN[30:],
        {"id": "new/last", "likes": "7"},
    ]
    _write(source, day)
    carried = _read(source, cache)
    _same(carried, _read(source))
    models = carried[0].set_index("model_id")
    assert models.loc["org5/model-5", "likes"] == 999  # the changed line was read again
    assert {"new/first", "new/middle", "new/last"} <= set(models.index)
    assert "org0/model-20" not in models.index


def test_only_lines_without_any_issue_are_kept(tmp_path):
    source, cache = tmp_path / "listing.jsonl", tmp_path / "cache"
    _write(source, [CLEAN[1], *HOSTILE])
    _read(source, cache)
    kept = open_store(cache).table.column("model_id").to_pylist()
    assert kept == ["org1/model-1"]


def test_a_batch_with_card_fields_is_read_as_a_fresh_read_cuts_it(tmp_path, small_batches, caplog):
    """A batch with no record that has a card field has unknown cards; a card field on one line
    changes its whole batch, so the stored rows of that batch cannot be taken as they are."""
    source, cache = tmp_path / "listing.jsonl", tmp_path / "cache"
    _write(source, CLEAN[:40])
    _read(source, cache)
    with_card = [*CLEAN[:3], {"id": "carded/one", "card": "# Hello"}, *CLEAN[3:40]]
    _write(source, with_card)
    with caplog.at_level(logging.WARNING, logger="hfmap.build"):
        carried = _read(source, cache)
    _same(carried, _read(source))
    assert "reading" in caplog.text and "whole" in caplog.text
    assert carried[0]["has_card"].iloc[:16].notna().all()  # its batch now knows its cards
    _same(_read(source, cache), _read(source))


@pytest.mark.parametrize("damage", ["cut short", "other code", "other schema", "bad index"])
def test_a_damaged_or_foreign_store_is_removed_with_one_logged_line(tmp_path, caplog, damage):
    source, cache = tmp_path / "listing.jsonl", tmp_path / "cache"
    _write(source, [*CLEAN, *HOSTILE])
    fresh = _read(source)
    _read(source, cache)
    directory = cache / STORE_DIR
    index = json.loads((directory / INDEX).read_text())
    data = directory / index["files"][0]
    if damage == "cut short":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "other code":
        (directory / INDEX).write_text(json.dumps({**index, "code": "1-0000"}))
    elif damage == "other schema":
        with (
            pa.OSFile(str(data), "wb") as sink,
            pa.ipc.new_file(sink, pa.schema([("key_lo", pa.uint64())])) as out,
        ):
            out.write_table(pa.table({"key_lo": pa.array([1], pa.uint64())}))
    else:
        (directory / INDEX).write_text(
            '{"files": ["../../elsewhere"], "code": ' + json.dumps(index["code"]) + "}"
        )
    with caplog.at_level(logging.WARNING, logger="hfmap.build"):
        read = _read(source, cache)
    _same(read, fresh)
    assert len([r for r in caplog.records if "not usable" in r.getMessage()]) == 1
    _same(_read(source, cache), fresh)  # the store written again is used
    assert len(open_store(cache)) > 0


def test_the_store_is_rewritten_once_most_of_it_is_unused(tmp_path):
    source, cache = tmp_path / "listing.jsonl", tmp_path / "cache"
    _write(source, CLEAN)
    _read(source, cache)
    _write(source, [*CLEAN, {"id": "one/more"}])
    _read(source, cache)
    assert len(open_store(cache).files) == 2  # the first file and the added line's
    _write(source, [*CLEAN[:10], {"id": "one/more"}])
    _same(_read(source, cache), _read(source))
    store = open_store(cache)
    assert len(store.files) == 1 and len(store) == 11


def test_a_carried_read_gives_the_texts_of_the_lines_it_parsed_only(tmp_path, small_batches):
    source, cache = tmp_path / "listing.jsonl", tmp_path / "cache"
    cards = [{**line, "card": f"# Model {i}\nA card about {i}."} for i, line in enumerate(CLEAN)]
    _write(source, cards[:50])
    first = read_source(str(source), IssueLog(), cache_dir=cache)
    assert None not in first.texts  # a first read parses every line
    _write(source, [*cards[:40], {**cards[45], "likes": 99}, *cards[50:]])
    again = read_source(str(source), IssueLog(), cache_dir=cache)
    _check_texts(again)
    ids = again.models["model_id"]
    parsed = [model_id for model_id, text in zip(ids, again.texts) if text is not None]
    assert parsed == ["org3/model-45", *(f"org{i % 7}/model-{i}" for i in range(50, 60))]
