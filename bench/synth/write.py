"""Write the synthetic population as a Parquet or CSV file in the published data set's schema.

Rows are written one row group (100k rows) at a time: tags and card text are built per
row group, so the card text of the whole set is never in memory at once.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.synth.arrays import (
    STRING,
    Ragged,
    as_text,
    by_template,
    choice,
    concat,
    concat_ragged,
    offsets,
    ragged_pool,
    ragged_take,
    scalar_list,
    strings,
    take,
    unique_strings,
    zipf,
    zipf_cdf,
)
from bench.synth.calibration import CALIBRATION, Calibration
from bench.synth.cards import (
    FIXED_ARXIV,
    K_AUTOTRAIN,
    K_GGUF,
    K_HUBTEMPLATE,
    K_HUMAN,
    K_MERGEKIT,
    K_PEFT,
    K_QTABLE,
    K_ST,
    K_TEMPLATE,
    K_TRAINER,
    K_UNSLOTH,
    KIND_TAGS,
    Chunk,
    cards,
    front_matter,
)
from bench.synth.forest import R_AD, R_FT, R_M, R_Q, R_ROOT, R_UN, RELATION_NAMES
from bench.synth.population import Population, build_population
from bench.synth.traits import (
    DATASET_CLASSICS,
    LANGUAGE_SETS,
    LIBRARIES,
    LIBRARY_CODE,
    LICENSES,
    MODEL_TYPES,
    PIPELINE_CODE,
    PIPELINES,
    TASK_WORDS,
    WORDS,
    author_pool,
)
from pipeline.sources.family_exports import PUBLISHED_SCHEMA

CHUNK_ROWS = 100_000
SYNTHETIC_KEY = b"hfmap.synthetic"
GENERATOR = b"bench.synth.write_synthetic"

# The published files' columns, in their order (dataset-schema.md section 1): the pipeline's
# PUBLISHED_SCHEMA without the columns only its family-export rows carry, `tags` after
# `downloads`.
EXPORT_ONLY_COLUMNS = ("author", "family_export")


def _published_file_schema() -> pa.Schema:
    fields = [f for f in PUBLISHED_SCHEMA if f.name not in (*EXPORT_ONLY_COLUMNS, "tags")]
    after_downloads = [f.name for f in fields].index("downloads") + 1
    tags = PUBLISHED_SCHEMA.field("tags")
    return pa.schema(fields[:after_downloads] + [tags] + fields[after_downloads:])


SYNTH_SCHEMA = _published_file_schema()


@lru_cache(maxsize=1)
def _pools():
    return dict(
        lib=pa.array(LIBRARIES, STRING),
        pipe=pa.array(PIPELINES, STRING),
        lic=pa.array(LICENSES, STRING),
        mtype=pa.array(MODEL_TYPES, STRING),
        langsets=ragged_pool(LANGUAGE_SETS),
        kind_tags={k: ragged_pool(v) for k, v in KIND_TAGS.items()},
        fw=ragged_pool(
            [
                [],
                ["safetensors"],
                ["pytorch"],
                ["pytorch", "safetensors"],
                ["tensorboard", "safetensors"],
            ]
        ),
        compat=ragged_pool(
            [
                [],
                ["autotrain_compatible", "text-generation-inference", "endpoints_compatible"],
                [
                    "conversational",
                    "autotrain_compatible",
                    "text-generation-inference",
                    "endpoints_compatible",
                ],
                ["endpoints_compatible"],
                ["endpoints_compatible", "conversational"],
            ]
        ),
        region=ragged_pool([["us"], ["eu"]]),
    )


def dataset_pool(n_all: int, seed: int) -> pa.Array:
    """Dataset ids for ``dataset:`` tags: a few classics, then synthetic ``author/name`` ids
    (Zipf-used)."""
    rng = np.random.default_rng([seed, 99])
    size = max(300, n_all // 40)
    authors = author_pool(rng, size)
    vocabulary = strings(WORDS + TASK_WORDS)
    w1 = take(vocabulary, rng.integers(0, len(WORDS) + len(TASK_WORDS), size))
    w2 = take(vocabulary, rng.integers(0, len(WORDS) + len(TASK_WORDS), size))
    which = choice(rng, [0.4, 0.3, 0.3], size)
    invented = by_template(
        ["{a}/{w1}-{w2}", "{a}/{w1}_{w2}_{num}", "{a}/{w1}-{num}k"],
        which,
        size,
        dict(a=authors, w1=w1, w2=w2, num=as_text(rng.integers(1, 200, size))),
    )
    pool = pa.concat_arrays([pa.array(DATASET_CLASSICS, STRING), invented])
    return unique_strings(pool)


def arxiv_pool(n_all: int, seed: int) -> pa.Array:
    """arXiv ids for ``arxiv:`` tags (Zipf-used)."""
    rng = np.random.default_rng([seed, 98])
    size = max(200, n_all // 100)
    yy = rng.integers(17, 26, size)
    mm = rng.integers(1, 13, size)
    nn = rng.integers(1, 25000, size)
    ids = concat(
        as_text(yy), pc.utf8_lpad(as_text(mm), 2, "0"), ".", pc.utf8_lpad(as_text(nn), 5, "0")
    )
    # well-known method papers lead the pool; the ones some card kinds always cite stay out of it
    always = pa.array([FIXED_ARXIV["template"], FIXED_ARXIV["ties"]], STRING)
    ids = ids.filter(pc.invert(pc.is_in(ids, value_set=always)))
    popular = pa.array([FIXED_ARXIV[k] for k in ("lora", "dpo", "dare", "stock")], STRING)
    return unique_strings(pa.concat_arrays([popular, ids]), sep="")


def chunk_table(
    pop: Population, rows: np.ndarray, rng: np.random.Generator, ds_pool, ax_pool, csv: bool
) -> pa.Table:
    """The rows ``rows`` of the population as one table in the published schema (CSV-ready if
    ``csv``)."""
    pools = _pools()
    lib_code = LIBRARY_CODE
    n = len(rows)
    kind = pop.kind[rows]
    rel = pop.rel[rows]
    lib = pop.lib[rows]
    pipe = pop.pipe[rows]
    lic = pop.lic[rows]
    langset = pop.langset[rows]
    arch = pop.archetype[rows]
    year = pop.year[rows]
    model_id = take(pop.model_id, rows)

    # parents: primary first, then merge partners
    par = np.stack([pop.parent[rows], pop.extra1[rows], pop.extra2[rows]], axis=1)
    pcount = (par >= 0).sum(axis=1)
    flat_par = par[par >= 0]
    parents = Ragged(offsets(pcount), take(pop.model_id, flat_par))
    parent_id = pc.if_else(
        pa.array(par[:, 0] >= 0), take(pop.model_id, np.maximum(par[:, 0], 0)), pa.nulls(n, STRING)
    )

    # datasets and papers
    p_ds = np.select(
        [
            kind == K_TRAINER,
            kind == K_ST,
            kind == K_AUTOTRAIN,
            kind == K_HUMAN,
            kind == K_UNSLOTH,
            np.isin(kind, [K_GGUF, K_QTABLE, K_PEFT]),
        ],
        [0.45, 0.7, 0.5, 0.28, 0.3, 0.12],
        0.05,
    )
    n_ds = np.where(rng.random(n) < p_ds, np.minimum(rng.geometric(0.55, n), 6), 0)
    first = zipf(rng, zipf_cdf(len(ds_pool), 3.0, 1.1), n)
    drows = np.repeat(np.arange(n), n_ds)
    didx = (first[drows] + (np.arange(len(drows)) - offsets(n_ds)[:-1][drows])) % len(ds_pool)
    ds_raw = Ragged(offsets(n_ds), take(ds_pool, didx))

    fixed = np.select(
        [np.isin(kind, [K_TEMPLATE, K_PEFT, K_HUBTEMPLATE]), kind == K_MERGEKIT], [0, 1], -1
    )
    fixed_vals = strings([FIXED_ARXIV["template"], FIXED_ARXIV["ties"]])
    big_root = (rel == R_ROOT) & (pop.fitness[rows] > 30)
    p_ax = np.select([big_root, kind == K_HUMAN, kind == K_TRAINER], [0.6, 0.12, 0.04], 0.01)
    n_ax = np.where(rng.random(n) < p_ax, np.minimum(rng.geometric(0.6, n), 4), 0)
    afirst = zipf(rng, zipf_cdf(len(ax_pool), 2.0, 1.0), n)
    arows = np.repeat(np.arange(n), n_ax)
    aidx = (afirst[arows] + (np.arange(len(arows)) - offsets(n_ax)[:-1][arows])) % len(ax_pool)
    ax = concat_ragged(
        [
            scalar_list(take(fixed_vals, np.maximum(fixed, 0)), fixed >= 0),
            Ragged(offsets(n_ax), take(ax_pool, aidx)),
        ]
    )

    # tag-carrying card kinds
    kt_parts = []
    kind_tags = Ragged(np.zeros(n + 1, dtype=np.int64), pa.array([], STRING))
    for kd, pool in pools["kind_tags"].items():
        sel = kind == kd
        if not sel.any():
            continue
        which = rng.integers(0, len(pool[1]), n)
        kt_parts.append(ragged_take(pool, which).keep(sel))
    if kt_parts:
        kind_tags = concat_ragged(kt_parts)

    lib_str = take(pools["lib"], lib)
    pipe_str = take(pools["pipe"], pipe)
    lic_str = take(pools["lic"], lic)
    mtype_str = take(pools["mtype"], pop.mtype[rows])
    name = take(pop.name, rows)
    author = take(pop.author, rows)

    chunk = Chunk(
        n,
        rows,
        rng,
        kind,
        rel,
        lib,
        pipe,
        lic,
        langset,
        arch,
        year,
        lib_str,
        pipe_str,
        lic_str,
        model_id,
        name,
        author,
        parent_id,
        parents,
        ds_raw,
        kind_tags,
        mtype_str,
        pop.fitness[rows],
        pop.depth[rows],
    )

    # tags, in the Hub's usual order
    langs = ragged_take(pools["langsets"], langset)
    no_framework = np.isin(
        lib,
        [
            0,
            lib_code["stable-baselines3"],
            lib_code["ml-agents"],
            lib_code["sample-factory"],
            lib_code["sklearn"],
            lib_code["pytorch"],
        ],
    )
    fw = np.select(
        [lib == lib_code["gguf"], no_framework, kind == K_TRAINER, year < 2022.5], [0, 0, 4, 2], 1
    )
    fw = np.where((fw == 2) & (rng.random(n) < 0.3), 3, fw)
    tg = (pipe == PIPELINE_CODE["text-generation"]) | (pipe == PIPELINE_CODE["image-text-to-text"])
    transformers = lib == lib_code["transformers"]
    compat = np.select(
        [
            transformers & tg & (rng.random(n) < 0.5),
            transformers & tg,
            transformers,
            lib == lib_code["gguf"],
        ],
        [2, 1, 3, 4],
        0,
    )
    region = (rng.random(n) < 0.004).astype(np.int64)
    rel_of_parent = np.where(rel == R_UN, -1, rel)
    rel_prefix = take(
        strings(["base_model:" + (r + ":" if r else "") for r in RELATION_NAMES]),
        np.repeat(np.where(rel_of_parent < 0, 0, rel_of_parent), pcount),
    )
    bm_plain = parents.prefixed("base_model:")
    bm_rel = Ragged(
        parents.offsets, pc.binary_join_element_wise(rel_prefix, parents.values, "")
    ).keep(rel != R_UN)
    tags = concat_ragged(
        [
            scalar_list(lib_str, lib != 0),
            ragged_take(pools["fw"], fw),
            scalar_list(mtype_str, (pop.mtype[rows] != 0) & (lib != lib_code["peft"])),
            scalar_list(pipe_str, pipe != 0),
            kind_tags,
            langs,
            ds_raw.prefixed("dataset:"),
            ax.prefixed("arxiv:"),
            bm_plain,
            bm_rel,
            scalar_list(pc.binary_join_element_wise("license:", lic_str, ""), lic != 0),
            ragged_take(pools["compat"], compat),
            ragged_take(pools["region"], region).prefixed("region:"),
        ]
    )
    regions = ragged_take(pools["region"], region)

    front = front_matter(chunk)
    card_text = cards(chunk, front)

    def rel_list(code):
        return parents.keep(rel == code)

    created = pa.array(pop.sec[rows].astype("datetime64[s]"))
    columns = {
        "model_id": model_id,
        "likes": pa.array(pop.likes[rows], pa.int64()),
        "trendingScore": pa.array(pop.trending[rows], pa.float64()),
        "private": pa.array(np.zeros(n, dtype=bool)),
        "downloads": pa.array(pop.downloads[rows], pa.int64()),
        "tags": tags,
        "pipeline_tag": pipe_str,
        "library_name": lib_str,
        "createdAt": pc.strftime(created, format="%Y-%m-%dT%H:%M:%S.000Z"),
        "regions": regions,
        "licenses": scalar_list(lic_str, lic != 0),
        "arxiv_papers": ax,
        "datasets": ds_raw,
        "parent_model": parents,
        "finetune_parent": rel_list(R_FT),
        "quantized_parent": rel_list(R_Q),
        "adapter_parent": rel_list(R_AD),
        "merge_parent": rel_list(R_M),
        "languages": langs,
        "modelCard": card_text,
    }
    arrays = []
    for field in SYNTH_SCHEMA:
        col = columns[field.name]
        if isinstance(col, Ragged):
            col = _python_list_repr(col) if csv else col.list_array()
        elif csv and field.type == pa.bool_():
            col = pc.if_else(col, "True", "False")  # as pandas writes them
        elif csv and field.type == pa.float64():
            # pandas writes 0.0, Arrow 0: keep the column a float column
            text = pc.cast(col, STRING)
            col = pc.if_else(pc.match_substring_regex(text, r"[.eEn]"), text, concat(text, ".0"))
        arrays.append(col)
    if csv:
        return pa.table(arrays, names=SYNTH_SCHEMA.names)
    return pa.Table.from_arrays(arrays, schema=SYNTH_SCHEMA)


def _python_list_repr(r: Ragged) -> pa.Array:
    """The list's Python ``str()`` form, as in the real CSV exports: "['a', 'b']" or "[]"."""
    joined = pc.binary_join_element_wise("['", r.join("', '"), "']", "")
    return pc.if_else(pa.array(r.counts > 0), joined, "[]")


def write_synthetic(
    n_rows: int,
    out: str | Path,
    seed: int = 0,
    progress: bool = True,
    rates: Calibration = CALIBRATION,
) -> Path:
    """Write ``n_rows`` synthetic models in the published data set's schema to ``out``.

    Parquet (list columns as Arrow lists, one row group per 100k rows, schema metadata
    ``hfmap.synthetic=true``), or CSV when ``out`` ends in ``.csv`` (list columns in their
    Python string form). Same ``n_rows``, ``seed`` and ``rates`` give byte-identical files.
    """
    if n_rows < 1:
        raise ValueError("n_rows must be at least 1")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv = out.suffix.lower() == ".csv"

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_rows, unit="rows", desc=f"synthetic {out.name}", file=sys.stderr)
        bar.set_postfix_str("building the forest")
    pop = build_population(int(n_rows), int(seed), rates)
    ds_pool = dataset_pool(pop.n_all, seed)
    ax_pool = arxiv_pool(pop.n_all, seed)
    order = np.random.default_rng([seed, 1]).permutation(np.flatnonzero(pop.keep))
    if bar is not None:
        bar.set_postfix_str("writing")

    schema = SYNTH_SCHEMA.with_metadata(
        {
            SYNTHETIC_KEY: b"true",
            b"hfmap.seed": str(seed).encode(),
            b"hfmap.n_rows": str(n_rows).encode(),
            b"hfmap.generator": GENERATOR,
        }
    )
    tmp = out.with_name(out.name + ".partial")
    writer = None
    try:
        for c, lo in enumerate(range(0, len(order), CHUNK_ROWS)):
            rows = order[lo : lo + CHUNK_ROWS]
            chunk_rng = np.random.default_rng([seed, 1000 + c])
            table = chunk_table(pop, rows, chunk_rng, ds_pool, ax_pool, csv)
            if writer is None:
                writer = (
                    pacsv.CSVWriter(str(tmp), table.schema)
                    if csv
                    else pq.ParquetWriter(str(tmp), schema, compression="zstd")
                )
            if csv:
                writer.write_table(table)
            else:
                writer.write_table(
                    table.replace_schema_metadata(schema.metadata), row_group_size=CHUNK_ROWS
                )
            if bar is not None:
                bar.update(len(rows))
            del table
    except BaseException:
        if writer is not None:
            writer.close()
            writer = None
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
    tmp.replace(out)
    return out


def is_synthetic(path: str | Path) -> bool:
    """True for a Parquet file written by ``write_synthetic`` (CSV files carry no marker)."""
    meta = pq.read_schema(str(path)).metadata or {}
    return meta.get(SYNTHETIC_KEY) == b"true"
