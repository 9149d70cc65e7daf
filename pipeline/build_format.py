"""The build format: the one contract between the pipeline, which writes builds, and the dashboard.

Layout of ``<out>/``::

    CURRENT                 name of the current build (replaced atomically)
    <build id>/             one finished build, never modified afterwards
        manifest.json       schema version, source, counts, stage times, bad-row report (Manifest)
        models.parquet      normalized fields + lineage + coordinates + cluster per model
        edges.parquet       parent_id, child_id, relation, parent_in_data
        families.parquet    one row per family root
        transitions.parquet trait changes along in-data edges
        clusters.parquet    cluster, size, label, top_terms, centre coordinates
        neighbours.parquet  each model's k nearest models (by row index)
        embeddings.npy      float32 (rows x dim), memory-mappable, row i = models row i
        text_keys.npy       a key of each model's embedded text (incremental builds compare them)
        findings.json       the paper's findings computed on this build (findings.compute_findings:
                            default relation, every model), for the dashboard and /api/findings
        index/              the pipeline's neighbour index, carried by incremental builds
                            (.npy arrays and JSON, never a pickle)
        embedder/           the fitted embedder, to embed free-text queries

Each table has one Arrow schema here (TABLE_SCHEMAS); the build casts what it writes to it, so a
table that drifts fails the build, not a reader later. Readers call ``open_build``, which
resolves CURRENT, checks the schema version and reads the manifest into a typed ``Manifest``.
pipeline.artifacts writes builds in this layout.

This module imports only the standard library, numpy and pyarrow: the dashboard imports it
(and the settings), nothing else of the pipeline. ``SimilaritySearch`` searches the embeddings
with numpy and loads the embedder (scikit-learn or torch) and the lexicon only for a free-text
search.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import BuildFormatError, NoSharedWordsError

if TYPE_CHECKING:  # for annotations only: this module loads pipeline.embed when first searched
    from _typeshed import DataclassInstance

    from pipeline.embed import Embedder
    from pipeline.lexicon import Lexicon

__all__ = [
    "BuildFormatError",
    "BuildPaths",
    "Manifest",
    "OpenBuild",
    "SimilaritySearch",
    "TIE_DECIMALS",
    "WEAK_MATCH",
    "list_array",
    "list_offsets",
    "open_build",
    "read_manifest",
    "resolve_build",
]

SCHEMA_VERSION = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.npy"
TEXT_KEYS = "text_keys.npy"
FINDINGS = "findings.json"
INDEX_DIR = "index"
EMBEDDER_DIR = "embedder"
TABLES = ("models", "edges", "families", "transitions", "clusters", "neighbours")

# parent relations, strongest first (a smaller code is a stronger link)
RELATIONS = ("finetune", "adapter", "quantized", "merge", "unspecified")


def table_file(name: str) -> str:
    """The file name of one of the TABLES (also used for the copies the dashboard keeps)."""
    if name not in TABLES:
        raise ValueError(f"{name!r} is not a table of a build; the tables are {', '.join(TABLES)}.")
    return f"{name}.parquet"


# ---------------------------------------------------------------- table schemas

_STR = pa.string()
_LIST = pa.list_(pa.string())

LIST_COLUMNS = (
    "tags",
    "licenses",
    "languages",
    "datasets",
    "arxiv_papers",
    "regions",
    "parent_model",
    "finetune_parent",
    "adapter_parent",
    "quantized_parent",
    "merge_parent",
)

# The normalized model fields every source is converted to (pipeline.schema), and the first
# columns of models.parquet.
MODEL_SCHEMA = pa.schema(
    [
        ("model_id", _STR),
        ("author", _STR),
        ("likes", pa.int64()),
        ("downloads", pa.int64()),
        ("trending_score", pa.float64()),
        ("private", pa.bool_()),
        ("pipeline_tag", _STR),
        ("library_name", _STR),
        ("created_at", pa.timestamp("us", tz="UTC")),
        *[(name, _LIST) for name in LIST_COLUMNS],
        ("has_card", pa.bool_()),
        ("card_length", pa.int64()),
        ("card_excerpt", _STR),
        ("card_auto_generated", pa.bool_()),
    ]
)

_COORDINATES = [(name, pa.float32()) for name in ("x", "y", "z", "x2d", "y2d")]

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "models": pa.schema(
        [
            *MODEL_SCHEMA,
            ("root_id", _STR),
            ("depth", pa.int64()),
            ("primary_parent", _STR),
            ("n_children", pa.int64()),
            ("n_descendants", pa.int64()),
            ("n_parents", pa.int64()),
            *_COORDINATES,
            ("cluster", pa.int32()),
        ]
    ),
    "edges": pa.schema(
        [
            ("parent_id", _STR),
            ("child_id", _STR),
            ("relation", _STR),
            ("parent_in_data", pa.bool_()),
        ]
    ),
    "families": pa.schema(
        [
            ("root_id", _STR),
            ("size", pa.int64()),
            ("max_depth", pa.int64()),
            *[(f"n_{relation}", pa.int64()) for relation in RELATIONS],
            ("total_downloads", pa.int64()),
        ]
    ),
    "transitions": pa.schema(
        [
            ("parent_id", _STR),
            ("child_id", _STR),
            ("relation", _STR),
            ("child_depth", pa.int64()),
            ("parent_license", _STR),
            ("child_license", _STR),
            ("license_changed", pa.bool_()),
            ("parent_languages", _LIST),
            ("child_languages", _LIST),
            ("languages_changed", pa.bool_()),
            ("parent_card_length", pa.int64()),
            ("child_card_length", pa.int64()),
            ("parent_card_auto_generated", pa.bool_()),
            ("child_card_auto_generated", pa.bool_()),
            ("parent_has_card", pa.bool_()),
            ("child_has_card", pa.bool_()),
        ]
    ),
    "clusters": pa.schema(
        [
            ("cluster", pa.int32()),
            ("size", pa.int64()),
            ("label", _STR),
            ("top_terms", _LIST),
            *_COORDINATES,
        ]
    ),
    "neighbours": pa.schema(
        [
            ("model_index", pa.int32()),
            ("neighbour_index", pa.int32()),
            ("rank", pa.int16()),
            ("similarity", pa.float32()),
        ]
    ),
}


class TableSchemaError(Exception):
    """A table the pipeline made does not fit its schema in the build format: a bug in hfmap,
    never a user's mistake (the build fails before anything is written)."""


def conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` cast to the schema of the build's table ``name``; TableSchemaError when its
    columns are not that table's columns, in order, or a value does not fit its type."""
    schema = TABLE_SCHEMAS[name]
    if table.column_names != schema.names:
        missing = [c for c in schema.names if c not in table.column_names]
        unknown = [c for c in table.column_names if c not in schema.names]
        raise TableSchemaError(
            f"The {name} table does not match the build format (missing {missing}, "
            f"unknown {unknown}, order {table.column_names} against {schema.names})."
        )
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise TableSchemaError(
            f"The {name} table does not fit the build format's types ({error})."
        ) from error


# ---------------------------------------------------------------- list columns


def list_offsets(owner_rows: npt.NDArray[np.integer[Any]], length: int) -> npt.NDArray[np.int64]:
    """Offsets (int64, length + 1) of ``length`` lists from the list each value belongs to:
    list i spans offsets[i]:offsets[i + 1] of the values ordered by owner row."""
    owner_rows = np.asarray(owner_rows, dtype=np.int64)
    if len(owner_rows) and (owner_rows.min() < 0 or owner_rows.max() >= length):
        raise ValueError(f"owner rows must lie in 0..{length - 1}")
    offsets = np.zeros(length + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner_rows, minlength=length), out=offsets[1:])
    return offsets


def list_array(owner_rows: npt.NDArray[np.integer[Any]], values: pa.Array, length: int) -> pa.Array:
    """``length`` Arrow lists from ``values`` and the row each belongs to (ascending, one per
    value): list i holds the values of row i in their order, a row without values gets [].
    A ListArray, or a LargeListArray when there are too many values for int32 offsets."""
    if len(owner_rows) != len(values):
        raise ValueError(f"{len(owner_rows)} owner rows for {len(values)} values")
    offsets = list_offsets(owner_rows, length)
    if offsets[-1] <= np.iinfo(np.int32).max:
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)
    return pa.LargeListArray.from_arrays(pa.array(offsets), values)


# ---------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class Counts:
    models: int
    edges: int
    edges_in_data: int
    families: int
    roots: int
    max_depth: int
    transitions: int
    clusters: int
    rejected_rows: int
    repaired_values: int
    dropped_links: int
    links_to_models_outside: int


@dataclass(frozen=True)
class EmbedderInfo:
    name: str
    dim: int
    state_id: str


@dataclass(frozen=True)
class EmbeddingCounts:
    newly_embedded: int
    from_cache: int


@dataclass(frozen=True)
class History:
    """What the map of a build is carried from: the last full build, and since it, the changes."""

    last_full_build: str
    models_at_last_full: int
    changed_since_full: int
    based_on: str | None = None  # the build an incremental build carried forward


@dataclass(frozen=True)
class Manifest:
    """manifest.json of a build. Fields with a default may be missing from a manifest (and are
    not written while None); any other missing or unknown key makes it unreadable."""

    build_id: str
    created_at: str
    hfmap_version: str
    source: str
    counts: Counts
    embedder: EmbedderInfo
    embedding: EmbeddingCounts
    neighbour_index: str
    mode: str  # "full" or "incremental"
    mode_reason: str
    history: History
    options: dict[str, Any]  # the BuildOptions the build ran with (paths as strings)
    seed: int
    stage_seconds: dict[str, float]
    issues: dict[str, Any]  # pipeline.report.IssueLog.to_dict()
    source_columns: dict[str, Any]  # pipeline.report.IssueLog.columns_dict()
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        data = _to_plain(self)
        ordered = {"schema_version": data.pop("schema_version"), **data}  # the version first
        return json.dumps(ordered, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "the manifest") -> Manifest:
        """The manifest in ``text``; BuildFormatError (one sentence) when it is not JSON, has
        another schema version, or misses, adds or mistypes a key."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise BuildFormatError(f"{where} is not a readable manifest ({error}).") from error
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise BuildFormatError(
                f"{where} has build schema version {version!r}, but this hfmap reads version "
                f"{SCHEMA_VERSION}; rebuild it."
            )
        return _from_plain(cls, data, where, "")


def _to_plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        plain = {}
        for field in fields(value):
            item = getattr(value, field.name)
            if item is None and field.default is None:
                continue
            plain[field.name] = _to_plain(item)
        return plain
    return value


Plain = TypeVar("Plain", bound="DataclassInstance")


def _from_plain(cls: type[Plain], data: Any, where: str, key: str) -> Plain:
    unreadable = f"{where} is not a manifest this hfmap reads"
    if not isinstance(data, dict):
        raise BuildFormatError(f"{unreadable}: {key or 'it'} is not an object.")
    known = {field.name: field for field in fields(cls)}
    required = {name for name, field in known.items() if field.default is MISSING}
    missing, unknown = sorted(required - set(data)), sorted(set(data) - set(known))
    if missing or unknown:
        problems = [f"missing {', '.join(_prefix(key, m) for m in missing)}"] if missing else []
        problems += [f"unknown {', '.join(_prefix(key, u) for u in unknown)}"] if unknown else []
        raise BuildFormatError(f"{unreadable} ({'; '.join(problems)}); rebuild it.")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        kind = hints[name]
        if isinstance(kind, type) and is_dataclass(kind):
            value = _from_plain(kind, value, where, _prefix(key, name))
        elif not _is_a(value, kind):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "…"
            raise BuildFormatError(f"{unreadable}: {_prefix(key, name)} is {shown}; rebuild it.")
        values[name] = value
    return cls(**values)


def _prefix(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _is_a(value: Any, kind: Any) -> bool:
    """Whether a JSON value fits a field's type (its outer type: dict, str, int, float, None)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, option) for option in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin or kind)


# ---------------------------------------------------------------- reading a build


@dataclass(frozen=True)
class BuildPaths:
    """The files of one build directory (finished, or still being written)."""

    path: Path

    def table(self, name: str) -> Path:
        return self.path / table_file(name)

    @property
    def manifest_file(self) -> Path:
        return self.path / MANIFEST

    @property
    def embeddings(self) -> Path:
        return self.path / EMBEDDINGS

    @property
    def text_keys(self) -> Path:
        return self.path / TEXT_KEYS

    @property
    def findings(self) -> Path:
        return self.path / FINDINGS

    @property
    def index(self) -> Path:
        return self.path / INDEX_DIR

    @property
    def embedder(self) -> Path:
        return self.path / EMBEDDER_DIR


@dataclass(frozen=True)
class OpenBuild(BuildPaths):
    """A finished build whose manifest was read and checked."""

    manifest: Manifest

    @property
    def build_id(self) -> str:
        return self.manifest.build_id


def resolve_build(path: Path) -> Path:
    """A build directory from either a build itself or an out directory with CURRENT."""
    path = Path(path)
    if (path / MANIFEST).exists():
        return path
    pointer = path / POINTER
    if pointer.exists():
        build = path / pointer.read_text(encoding="utf-8").strip()
        if (build / MANIFEST).exists():
            return build
        raise BuildFormatError(f"{pointer} names the build {build.name}, which does not exist.")
    raise BuildFormatError(f"{path} holds no build; run `hfmap build --out {path}` first.")


def read_manifest(build: Path) -> Manifest:
    """The manifest of a build (or of an out directory's current build), checked."""
    file = resolve_build(build) / MANIFEST
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BuildFormatError(f"{file} is not a readable manifest ({error}).") from error
    return Manifest.from_json(text, where=str(file))


def open_build(path: Path) -> OpenBuild:
    """The build at path (a build, or an out directory whose CURRENT build is taken), its manifest
    read and its schema version checked; BuildFormatError otherwise."""
    build = resolve_build(path)
    return OpenBuild(path=build, manifest=read_manifest(build))


# ---------------------------------------------------------------- similarity search


# A free-text hit's score: share + (1 - share) * cosine * kept / 2, where share is the
# rarity-weighted share of the query's words the model carries (pipeline.lexicon; 0 when no model
# carries one), cosine its embedding's similarity to the query's (at least 0) and kept how much of
# the query its embedding keeps (Embedder.kept: 1 for MiniLM; TF-IDF's 64 SVD dimensions keep 0.03
# of "japanese speech recognition", 0.88 of "llama"). A model that carries every word scores 1
# whatever its cosine, and the cosine alone makes at most 0.5: it favours models whose text is
# little but the query's kept words (llama: 1.00 for "osanseviero/is_it_a_llama", 0.70 for
# meta-llama/Llama-2-7b-hf, whose other words the embedding keeps). Scores equal to TIE_DECIMALS
# decimals are ties, the most downloaded, then liked, first. A best hit below WEAK_MATCH carries
# less than half of the query's weighted words: the views say so.
WEAK_MATCH = 0.5
TIE_DECIMALS = 2


class SimilaritySearch:
    """Nearest models of one build by the cosine of their embeddings, searched exactly with numpy
    over the memory-mapped embeddings (one query reads every vector once: ~30 ms for 760k x 64).
    Free text is embedded with the build's embedder (loaded on the first free-text search) and
    also matched word for word against the models' ids, tags and languages (pipeline.lexicon,
    built on that search); nothing here loads the pipeline's neighbour index."""

    def __init__(self, build: Path | OpenBuild):
        self.build = build if isinstance(build, OpenBuild) else open_build(build)

    @cached_property
    def vectors(self) -> npt.NDArray[np.float32]:
        vectors: npt.NDArray[np.float32] = np.load(
            self.build.embeddings, mmap_mode="r", allow_pickle=False
        )
        return vectors

    @cached_property
    def norms(self) -> npt.NDArray[np.float32]:
        """Each model's vector length (0 for an empty text's vector)."""
        norms: npt.NDArray[np.float32] = np.linalg.norm(self.vectors, axis=1).astype(np.float32)
        return norms

    @cached_property
    def embedder(self) -> Embedder:
        from pipeline.embed import load_embedder

        return load_embedder(self.build.embedder)

    @cached_property
    def lexicon(self) -> Lexicon:
        from pipeline.lexicon import Lexicon

        table = self._models_columns(["model_id", "tags"])
        return Lexicon(
            table.column("model_id").combine_chunks(), table.column("tags").combine_chunks()
        )

    @cached_property
    def popularity(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Each model's downloads and likes (ties are ranked by them)."""
        table = self._models_columns(["downloads", "likes"])
        downloads, likes = (
            pc.fill_null(table.column(name), 0).to_numpy().astype(np.int64)
            for name in ("downloads", "likes")
        )
        return downloads, likes

    def _models_columns(self, columns: list[str]) -> pa.Table:
        """Columns of the build's models table, one row per embedding; BuildFormatError when the
        table and the embeddings disagree on how many models there are."""
        table = pq.read_table(self.build.table("models"), columns=columns)
        if table.num_rows != len(self.vectors):
            raise BuildFormatError(
                f"{self.build.path} holds {table.num_rows} models but {len(self.vectors)} "
                "embeddings; rebuild it."
            )
        return table

    def cosines(self, query: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Every model's cosine similarity to query (one vector); -inf for a zero vector's model,
        and for every model when query is zero."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        length = float(np.linalg.norm(query))
        if length == 0:
            return np.full(len(self.norms), -np.inf, dtype=np.float32)
        similarity = (
            (self.vectors @ (query / length)) / np.where(self.norms > 0, self.norms, 1)
        ).astype(np.float32)
        similarity[self.norms == 0] = -np.inf
        return similarity

    def nearest(
        self, query: npt.ArrayLike, k: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows of the k models whose vectors are nearest to query (one vector) by cosine, and
        their similarities, best first (exact order, no ties broken). A zero vector is near
        nothing."""
        similarity = self.cosines(query)
        wanted = min(k, len(similarity))
        if wanted <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        top = np.argpartition(-similarity, wanted - 1)[:wanted]
        top = top[np.argsort(-similarity[top], kind="stable")]
        top = top[np.isfinite(similarity[top])]
        return top.astype(np.int64), similarity[top].astype(np.float32)

    def ranked(self, scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.int64]:
        """Rows of the k best finite scores, best first: scores equal to TIE_DECIMALS decimals are
        ties, ranked by downloads, then likes, then row."""
        rounded = np.round(scores.astype(np.float64), TIE_DECIMALS)
        finite = np.isfinite(rounded)
        wanted = min(k, int(finite.sum()))
        if wanted <= 0:
            return np.empty(0, np.int64)
        cut = np.partition(rounded[finite], len(rounded[finite]) - wanted)[-wanted]
        candidates = np.flatnonzero(finite & (rounded >= cut))
        downloads, likes = self.popularity
        order = np.lexsort(
            (candidates, -likes[candidates], -downloads[candidates], -rounded[candidates])
        )
        return candidates[order][:wanted].astype(np.int64)

    def near_row(self, row: int, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows of the k models nearest to the model at row (itself excluded) and their cosines,
        best first, ties by popularity."""
        similarity = self.cosines(self.vectors[row])
        similarity[row] = -np.inf
        rows = self.ranked(similarity, k)
        return rows, similarity[rows]

    def near_text(
        self, text: str, k: int = 10
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Rows of the k models nearest to free text and their scores, best first: the share of
        the text's words the model carries, the rest of the way to 1 filled by half the model's
        cosine to the text's embedding times the share of the text the embedding keeps; models
        with neither are left out.
        NoSharedWordsError when the build knows no word of text."""
        query = self.embedder.transform([text])[0]
        share = self.lexicon.share(text)
        if share is None and not np.any(query):
            raise NoSharedWordsError(
                f"No word of {text!r} occurs in this build's models: try a task (speech "
                "recognition), a language, a library or a word of model names."
            )
        dense = np.clip(self.cosines(query), 0, 1) * float(self.embedder.kept([text])[0]) / 2
        scores = (dense if share is None else share + (1 - share) * dense).astype(np.float32)
        scores[scores <= 0] = -np.inf  # nothing in common with the text
        rows = self.ranked(scores, k)
        return rows, scores[rows].astype(np.float32)
