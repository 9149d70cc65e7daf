"""The synthetic data set (bench/synth): the published schema, a believable ecosystem,
deterministic, and its command line."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.synth import SYNTHETIC_KEY, is_synthetic, write_synthetic
from bench.synth.__main__ import main as synth_main

N = 4000

# dataset-schema.md section 1, spelled out independently of the generator
PUBLISHED_COLUMNS = [
    ("model_id", pa.string()),
    ("likes", pa.int64()),
    ("trendingScore", pa.float64()),
    ("private", pa.bool_()),
    ("downloads", pa.int64()),
    ("tags", pa.list_(pa.string())),
    ("pipeline_tag", pa.string()),
    ("library_name", pa.string()),
    ("createdAt", pa.string()),
    ("regions", pa.list_(pa.string())),
    ("licenses", pa.list_(pa.string())),
    ("arxiv_papers", pa.list_(pa.string())),
    ("datasets", pa.list_(pa.string())),
    ("parent_model", pa.list_(pa.string())),
    ("finetune_parent", pa.list_(pa.string())),
    ("quantized_parent", pa.list_(pa.string())),
    ("adapter_parent", pa.list_(pa.string())),
    ("merge_parent", pa.list_(pa.string())),
    ("languages", pa.list_(pa.string())),
    ("modelCard", pa.string()),
]
LIST_COLUMNS = [name for name, type_ in PUBLISHED_COLUMNS if pa.types.is_list(type_)]
RELATION_COLUMNS = {
    "finetune": "finetune_parent",
    "quantized": "quantized_parent",
    "adapter": "adapter_parent",
    "merge": "merge_parent",
}
AUTO_MARKERS = re.compile(
    r"generated automatically|automatically generated|More Information Needed|GGUF-my-repo|"
    r"mergekit|trained 2x faster with \[Unsloth\]|Trained Using AutoTrain|sbert\.net|"
    r"stable-baselines3 library|"
    r"converted to MLX format|static quants of"
)


@pytest.fixture(scope="module")
def parquet_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "synthetic.parquet"
    return write_synthetic(N, out, seed=7, progress=False)


@pytest.fixture(scope="module")
def table(parquet_path) -> pa.Table:
    return pq.read_table(parquet_path)


@pytest.fixture(scope="module")
def df(table) -> pd.DataFrame:
    frame = table.to_pandas()
    for col in LIST_COLUMNS:
        frame[col] = frame[col].map(list)
    return frame


@pytest.fixture(scope="module")
def lineage(df):
    """Primary parent per model, depth (walking resolvable parents) and child counts."""
    primary = {m: (ps[0] if ps else None) for m, ps in zip(df.model_id, df.parent_model)}
    depth = {}
    for m in df.model_id:
        d, cur = 0, m
        while primary.get(cur) is not None and d < 50:
            cur, d = primary[cur], d + 1
        depth[m] = d
    root = {}
    for m in df.model_id:
        cur = m
        while primary.get(cur) is not None:
            cur = primary[cur]
        root[m] = cur
    n_children = Counter(p for ps in df.parent_model for p in ps)
    return primary, depth, root, n_children


def test_exact_published_schema_and_synthetic_marker(table, parquet_path):
    assert [(f.name, f.type) for f in table.schema] == PUBLISHED_COLUMNS
    meta = pq.read_schema(parquet_path).metadata
    assert meta[SYNTHETIC_KEY] == b"true"
    assert meta[b"hfmap.seed"] == b"7" and meta[b"hfmap.n_rows"] == str(N).encode()
    assert is_synthetic(parquet_path)
    assert pq.ParquetFile(parquet_path).metadata.num_row_groups >= 1


def test_row_count_unique_ids_and_id_shape(df):
    assert len(df) == N
    assert df.model_id.is_unique
    id_shape = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}"
    assert df.model_id.str.fullmatch(id_shape).all()
    assert not df.private.any()
    assert df.createdAt.str.fullmatch(r"20(19|2[0-5])-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z").all()
    # Zipf authors: many authors, a few prolific ones
    authors = df.model_id.str.split("/").str[0].value_counts()
    assert len(authors) > N / 10 and authors.iloc[0] >= 10


def test_parents_mostly_resolve_with_a_few_missing(df):
    ids = set(df.model_id)
    refs = [p for ps in df.parent_model for p in ps]
    missing = sum(p not in ids for p in refs)
    assert len(refs) > 0.25 * N
    assert 0 < missing < 0.05 * len(refs)


def test_tags_agree_with_columns(df):
    for row in df.itertuples(index=False):
        tags = list(row.tags)
        assert len(tags) == len(set(tags)), row.model_id
        plain = [
            t.split(":", 1)[1] for t in tags if t.startswith("base_model:") and t.count(":") == 1
        ]
        assert plain == list(row.parent_model)
        for relation, col in RELATION_COLUMNS.items():
            tagged = [t.split(":", 2)[2] for t in tags if t.startswith(f"base_model:{relation}:")]
            assert tagged == list(getattr(row, col))
        related = [p for col in RELATION_COLUMNS.values() for p in getattr(row, col)]
        assert set(related) <= set(row.parent_model)
        assert [t[8:] for t in tags if t.startswith("license:")] == list(row.licenses)
        assert [t[8:] for t in tags if t.startswith("dataset:")] == list(row.datasets)
        assert [t[6:] for t in tags if t.startswith("arxiv:")] == list(row.arxiv_papers)
        assert [t[7:] for t in tags if t.startswith("region:")] == list(row.regions)
        assert [t for t in tags if re.fullmatch(r"[a-z]{2}", t)] == list(row.languages)
        if pd.notna(row.library_name):
            assert row.library_name in tags
        if pd.notna(row.pipeline_tag):
            assert row.pipeline_tag in tags


def test_relation_mix_and_merges(df):
    counts = {rel: int((df[col].map(len) > 0).sum()) for rel, col in RELATION_COLUMNS.items()}
    assert counts["finetune"] > counts["quantized"] > counts["merge"] > 0
    assert counts["adapter"] > counts["merge"]
    merges = df[df.merge_parent.map(len) > 0]
    assert (merges.merge_parent.map(len) >= 2).all()
    assert merges.merge_parent.map(len).max() <= 3
    # a small share of parents is only a bare base_model:X tag (relation unspecified)
    related = df[list(RELATION_COLUMNS.values())].apply(lambda r: sum(len(x) for x in r), axis=1)
    bare = (df.parent_model.map(len) > 0) & (related == 0)
    assert 0 < bare.sum() < 0.15 * (df.parent_model.map(len) > 0).sum()


def test_children_are_created_after_their_parents(df):
    created = dict(zip(df.model_id, df.createdAt))
    pairs = [
        (created[p], c)
        for p_list, c in zip(df.parent_model, df.createdAt)
        for p in p_list
        if p in created
    ]
    assert pairs and all(parent < child for parent, child in pairs)


def test_heavy_tailed_families_several_levels_deep(df, lineage):
    _, depth, root, n_children = lineage
    n_kids = df.model_id.map(lambda m: n_children.get(m, 0))
    assert (n_kids == 0).mean() > 0.6  # most models have no children
    n_descendants = df.parent_model.map(len).gt(0).sum()
    family = Counter(r for m, r in root.items() if r != m)
    assert family.most_common(1)[0][1] > 0.05 * n_descendants  # one family dominates
    assert sum(size == 1 for size in family.values()) > 10  # and many have one child
    assert max(depth.values()) >= 3


def test_trait_distributions(df):
    assert df.pipeline_tag.value_counts().index[0] == "text-generation"
    libs = set(df.library_name.dropna())
    assert {"transformers", "diffusers", "peft", "gguf", "sentence-transformers"} <= libs
    assert (df.downloads == 0).mean() > 0.5
    assert df.downloads.max() > 1000 * max(df.downloads.median(), 1)
    assert (df.likes == 0).mean() > 0.6
    assert (df.trendingScore == 0).mean() > 0.95
    assert df.languages.map(lambda x: x == ["en"]).mean() > 0.2
    assert df.licenses.map(len).gt(0).mean() > 0.5
    years = df.createdAt.str[:4].astype(int).value_counts()
    assert years.get(2024, 0) > years.get(2022, 0) > years.get(2020, 0)  # exponential growth


def test_children_drift_to_english(df, lineage):
    primary, *_ = lineage
    langs = dict(zip(df.model_id, df.languages))
    multi = [(langs[p], langs[m]) for m, p in primary.items() if p in langs and len(langs[p]) >= 2]
    assert multi
    assert np.mean([child == ["en"] for _, child in multi]) > 0.15


def test_cards_front_matter_templates_and_length(df, lineage):
    _, depth, *_ = lineage
    cards = df.modelCard
    assert 0.03 < cards.isna().mean() < 0.4
    present = cards.dropna()
    assert (present.str.len() > 0).all()
    assert present.str.startswith("---\n").mean() > 0.7
    lengths = present.str.len()
    assert 700 < lengths.median() < 2500 and lengths.max() > 8000
    d = df.model_id.map(depth)
    auto = cards.fillna("").str.contains(AUTO_MARKERS)
    has = cards.notna()
    assert auto[has & (d == 0)].mean() + 0.2 < auto[has & (d >= 1)].mean()


def test_csv_matches_parquet(tmp_path, df):
    path = write_synthetic(N, tmp_path / "synthetic.csv", seed=7, progress=False)
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert list(back.columns) == [name for name, _ in PUBLISHED_COLUMNS]
    assert len(back) == N
    for col in LIST_COLUMNS:
        assert back[col].str.startswith("[").all()
        assert back[col].map(ast.literal_eval).tolist() == df[col].tolist(), col
    assert back.model_id.tolist() == df.model_id.tolist()
    assert back.downloads.tolist() == df.downloads.tolist()
    assert back.trendingScore.dtype == np.float64 and back.private.dtype == bool
    assert back.modelCard.fillna("<null>").tolist() == df.modelCard.fillna("<null>").tolist()


def test_deterministic(tmp_path):
    a = write_synthetic(600, tmp_path / "a.parquet", seed=3, progress=False).read_bytes()
    b = write_synthetic(600, tmp_path / "b.parquet", seed=3, progress=False).read_bytes()
    c = write_synthetic(600, tmp_path / "c.parquet", seed=4, progress=False).read_bytes()
    assert a == b
    assert a != c


def test_rejects_empty(tmp_path):
    with pytest.raises(ValueError):
        write_synthetic(0, tmp_path / "x.parquet", progress=False)


@pytest.mark.parametrize(
    "args, sentence",
    [
        (["--rows", "10", "--out", "x.txt"], "--out must end in .parquet or .csv, not 'x.txt'."),
        (["--rows", "0", "--out", "x.parquet"], "--rows must be at least 1."),
        (["--rows", "ten", "--out", "x.parquet"], "argument --rows: invalid int value: 'ten'."),
        (["--rows", "10", "--out", "x.parquet", "--seed", "-1"], "--seed must be 0 or more."),
    ],
)
def test_command_line_rejects_a_bad_argument_in_one_sentence(args, sentence, capsys):
    with pytest.raises(SystemExit) as exit_:
        synth_main(args)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"python -m bench.synth: {sentence}\n"


def test_command_line_writes_the_file(tmp_path, capsys):
    out = tmp_path / "sub" / "synthetic.parquet"
    assert synth_main(["--rows", "300", "--out", str(out), "--seed", "3"]) == 0
    assert capsys.readouterr().out == f"wrote 300 SYNTHETIC rows to {out}\n"
    assert is_synthetic(out) and pq.read_metadata(out).num_rows == 300
