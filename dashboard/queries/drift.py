"""How traits drift from parent to child: the paper's findings, measured on the build's own data
and said in sentences (``findings``).

License and language drift come from the transitions table (one row per parent link inside
the data), restricted to links whose child passes the filters; card length and
auto-generated cards by depth come from the models themselves. The links' traits are turned
into small integer codes once per build (``links``), so each query only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from dashboard.queries.ranking import top_values
from dashboard.values import NO_VALUE
from pipeline.build_format import RELATIONS, table_file

OTHER_LICENSES = "(other licenses)"  # the licenses beyond the top ones, in the heat map
MAX_DEPTH_SHOWN = 8  # deeper models are shown with this depth ("8+")

# License classes after the paper's reading of license drift (restrictive -> permissive/copyleft).
# A license id is matched by prefix (the longest match wins); anything unmatched is "unclassified".
LICENSE_CLASSES = {
    "permissive": (
        "apache",
        "mit",
        "bsd",
        "cc-by-4",
        "cc-by-3",
        "cc-by-2",
        "cc0",
        "unlicense",
        "wtfpl",
        "zlib",
        "isc",
        "afl",
        "artistic",
        "bsl",
        "ecl",
        "ms-pl",
        "postgresql",
        "ncsa",
        "pddl",
        "odc-by",
    ),
    "copyleft": ("gpl", "agpl", "lgpl", "cc-by-sa", "gfdl", "mpl", "epl", "eupl", "osl", "odbl"),
    "restrictive": (
        "llama",
        "gemma",
        "cc-by-nc",
        "cc-by-nd",
        "openrail",
        "creativeml",
        "bigscience",
        "bigcode",
        "other",
        "deepseek",
        "apple",
        "c-uda",
        "intel-research",
        "fair-noncommercial",
        "mistral",
        "qwen",
        "tongyi",
        "flux",
    ),
}
CLASS_ORDER = ["restrictive", "permissive", "copyleft", "unclassified", "none"]
LANGUAGE_CLASSES = [
    "none listed",
    "English only",
    "English + others",
    "one other language",
    "several, no English",
]


def license_class(license: str) -> str:
    if license == NO_VALUE:
        return "none"
    best, best_length = "unclassified", 0
    for kind, prefixes in LICENSE_CLASSES.items():
        for prefix in prefixes:
            if license.startswith(prefix) and len(prefix) > best_length:
                best, best_length = kind, len(prefix)
    return best


@dataclass
class Links:
    """Every in-data parent link of a build, its traits as codes (row i = transitions row i)."""

    child_row: np.ndarray  # the child's row in the build
    relation: np.ndarray  # index into RELATIONS
    licenses: list[str]  # license names (NO_VALUE included)
    parent_license: np.ndarray  # index into licenses
    child_license: np.ndarray
    license_changed: np.ndarray  # 1 changed, 0 kept, -1 unknown (either license missing)
    parent_language: np.ndarray  # index into LANGUAGE_CLASSES
    child_language: np.ndarray


def language_classes(lists: pa.ChunkedArray) -> np.ndarray:
    """The LANGUAGE_CLASSES index of each language list."""
    lists = pc.fill_null(lists, pa.scalar([], lists.type)).combine_chunks()
    count = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    english = (
        np.bincount(
            pc.list_parent_indices(lists).to_numpy()[
                pc.equal(pc.list_flatten(lists), "en").to_numpy(zero_copy_only=False)
            ],
            minlength=len(count),
        )
        > 0
    )
    classes = np.where(english, np.where(count == 1, 1, 2), np.where(count == 1, 3, 4))
    return np.where(count == 0, 0, classes).astype(np.int8)


def links(build: Build) -> Links:
    """The build's links as codes: read once per build (see ``Build.derived``)."""
    table = pq.read_table(
        build.prepared / table_file("transitions"),
        columns=[
            "relation",
            "parent_license",
            "child_license",
            "license_changed",
            "parent_languages",
            "child_languages",
        ],
    )
    parent = pc.fill_null(table.column("parent_license"), NO_VALUE)
    child = pc.fill_null(table.column("child_license"), NO_VALUE)
    licenses = pc.unique(pa.chunked_array(parent.chunks + child.chunks)).to_pylist()
    relations = pa.array(RELATIONS)
    changed = table.column("license_changed")
    return Links(
        child_row=build.edges.child_row[
            build.edges.parent_row >= 0
        ],  # transitions are the in-data edges, in edge order
        relation=pc.index_in(table.column("relation"), value_set=relations)
        .to_numpy(zero_copy_only=False)
        .astype(np.int8),
        licenses=licenses,
        parent_license=pc.index_in(parent, value_set=pa.array(licenses))
        .to_numpy(zero_copy_only=False)
        .astype(np.int32),
        child_license=pc.index_in(child, value_set=pa.array(licenses))
        .to_numpy(zero_copy_only=False)
        .astype(np.int32),
        license_changed=np.where(
            pc.is_null(changed).to_numpy(zero_copy_only=False),
            -1,
            pc.fill_null(changed, False).to_numpy(zero_copy_only=False),
        ).astype(np.int8),
        parent_language=language_classes(table.column("parent_languages")),
        child_language=language_classes(table.column("child_languages")),
    )


def kept_links(build: Build, filters: Filters, relation: str) -> tuple[Links, np.ndarray]:
    """The build's links, and which of them count: child passes the filters, relation as asked
    ("all": any)."""
    codes = build.derived("drift-links", links)
    keep = filter_mask(build, filters)[codes.child_row]
    if relation != "all":
        keep &= codes.relation == RELATIONS.index(relation)
    return codes, keep


def pair_counts(parent: np.ndarray, child: np.ndarray, size: int) -> np.ndarray:
    """counts[i, j] = links from a parent with code i to a child with code j."""
    return np.bincount(parent.astype(np.int64) * size + child, minlength=size * size).reshape(
        size, size
    )


@cached_query
def license_drift(
    build: Build, filters: Filters, relation: str = "all", top: int = 10
) -> dict[str, Any]:
    """Parent -> child license counts over the ``top`` licenses (the rest as OTHER_LICENSES), the
    share of links that change license, and the same counts by license class."""
    codes, keep = kept_links(build, filters, relation)
    parent, child = codes.parent_license[keep], codes.child_license[keep]
    frequency = np.bincount(parent, minlength=len(codes.licenses)) + np.bincount(
        child, minlength=len(codes.licenses)
    )
    common = top_values(codes.licenses, frequency, top, other=OTHER_LICENSES)
    labels, label_of = common.names, common.group_of
    class_of = np.asarray(
        [CLASS_ORDER.index(license_class(name)) for name in codes.licenses], dtype=np.int64
    )
    changed = codes.license_changed[keep]
    return {
        "labels": labels,
        "counts": pair_counts(label_of[parent], label_of[child], len(labels)),
        "links": int(keep.sum()),
        "changed": int((changed == 1).sum()),
        "known": int((changed >= 0).sum()),
        "class_labels": CLASS_ORDER,
        "class_counts": pair_counts(class_of[parent], class_of[child], len(CLASS_ORDER)),
    }


@cached_query
def language_drift(build: Build, filters: Filters, relation: str = "all") -> dict[str, Any]:
    """Parent -> child counts between language-set classes (English only, several, none listed,
    …)."""
    codes, keep = kept_links(build, filters, relation)
    counts = pair_counts(
        codes.parent_language[keep], codes.child_language[keep], len(LANGUAGE_CLASSES)
    )
    return {"labels": LANGUAGE_CLASSES, "counts": counts, "links": int(keep.sum())}


@cached_query
def cards_by_depth(build: Build, filters: Filters) -> pd.DataFrame:
    """Per family depth (deeper than MAX_DEPTH_SHOWN grouped): models, card length quartiles and
    10/90th percentiles over models with a card, and the share of auto-generated cards."""
    mask = filter_mask(build, filters)
    depth = np.minimum(build.numbers("depth")[mask], MAX_DEPTH_SHOWN)
    length = build.numbers("card_length")[mask]
    auto = build.numbers("card_auto_generated")[mask]
    rows = []
    for level in np.unique(depth):
        at = depth == level
        lengths = length[at & (length > 0)]
        known_auto = auto[at & ~np.isnan(auto)]
        quantiles = np.percentile(lengths, [10, 25, 50, 75, 90]) if len(lengths) else [np.nan] * 5
        rows.append(
            {
                "depth": int(level),
                "models": int(at.sum()),
                "with_card": len(lengths),
                **dict(zip(("p10", "q1", "median", "q3", "p90"), map(float, quantiles))),
                "auto_share": float(known_auto.mean()) if len(known_auto) else np.nan,
                "auto_known": len(known_auto),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "depth",
            "models",
            "with_card",
            "p10",
            "q1",
            "median",
            "q3",
            "p90",
            "auto_share",
            "auto_known",
        ],
    )


def share(part: float, whole: float) -> str:
    """part of whole as a whole percentage ("–" of nothing)."""
    return f"{part / whole:.0%}" if whole else "–"


def findings(licenses: dict[str, Any], languages: dict[str, Any], cards: pd.DataFrame) -> list[str]:
    """The paper's four findings as sentences with this data's numbers (the results of
    license_drift, language_drift and cards_by_depth)."""
    classes = licenses["class_labels"]
    restrictive = licenses["class_counts"][classes.index("restrictive")]
    opened = restrictive[classes.index("permissive")] + restrictive[classes.index("copyleft")]
    # children whose license has a known class
    classified = opened + restrictive[classes.index("restrictive")]
    language = languages["counts"]
    multilingual = language[2] + language[4]  # parents with several languages
    base, deeper = cards[cards["depth"] == 0], cards[cards["depth"] > 0]
    items = [
        f"{licenses['links']:,} parent links; {share(licenses['changed'], licenses['known'])} of "
        f"the {licenses['known']:,} with both licenses known change license.",
        f"Of the links from a restrictive license to a classified one, {share(opened, classified)} "
        f"lead to a permissive or copyleft license.",
        f"Of the children of multilingual parents, {share(multilingual[1], multilingual.sum())} "
        f"are English only.",
    ]
    if len(base) and len(deeper):
        median_deeper = (deeper["median"] * deeper["with_card"]).sum() / max(
            deeper["with_card"].sum(), 1
        )
        auto_deeper = (deeper["auto_share"].fillna(0) * deeper["auto_known"]).sum() / max(
            deeper["auto_known"].sum(), 1
        )
        items.append(
            f"Median card length: {base['median'].iat[0]:,.0f} characters for base "
            f"models, about {median_deeper:,.0f} below them; auto-generated cards: "
            f"{base['auto_share'].iat[0]:.0%} for base models, {auto_deeper:.0%} below."
        )
    return items
