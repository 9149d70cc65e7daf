"""Single models: finding them by name, everything known of one, and the choices for the filters."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pyarrow.compute as pc

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.prepare import FIELD_SEPARATOR
from dashboard.queries.lineage_path import root_path
from dashboard.queries.points import first_in_order
from dashboard.queries.ranking import category_counts, top_values
from dashboard.shown import LABEL_CHARS, URL_VALUE_CHARS, shorten
from dashboard.values import NO_VALUE
from pipeline.build_format import RELATIONS

CHILDREN_LISTED = 50
PARENTS_LISTED = 50
OPTIONS_MAX_BYTES = 64_000  # the most label and value text one dropdown's options may hold


@cached_query
def find_models(build: Build, text: str, limit: int = 20) -> list[str]:
    """Ids containing ``text`` (literally, any case), as a model picker offers them: the id that is
    text itself first, then the ids whose name after the slash is text, then the rest; each group
    most downloaded first."""
    text = " ".join((text or "").replace(FIELD_SEPARATOR, " ").split()).lower()
    if not text:
        return build.ids(build.popularity_order[:limit])
    ids = build.table.column("model_id")
    groups = (  # each a scan of every id: 5, 40 and 60 ms at 760,000 models
        # the id, any case ("id\x1fauthor" in lower case starts with it)
        partial(pc.starts_with, build.table.column("search_id"), text + FIELD_SEPARATOR),
        partial(pc.ends_with, ids, f"/{text}", ignore_case=True),  # the name after the slash
        partial(pc.match_substring, ids, text, ignore_case=True),
    )
    found: list[int] = []
    for group in groups:
        if len(found) >= limit:
            break
        hits = np.array(group().to_numpy(zero_copy_only=False), dtype=np.bool_)
        hits[found] = False
        found += first_in_order(build.popularity_order, hits, limit - len(found)).tolist()
    return build.ids(np.array(found, dtype=np.int64))


@cached_query
def model_facts(build: Build, row: int) -> dict[str, Any]:
    """What hovering a point shows: id, library, pipeline, downloads, likes (None where unknown)."""
    exact = (
        build.details.slice(int(row), 1).select(["downloads", "likes"]).to_pylist()[0]
    )  # integers of any size
    return {
        "model_id": build.model_id(row),
        "library": build.category_of("library_name", np.array([row]))[0],
        "pipeline": build.category_of("pipeline_tag", np.array([row]))[0],
        "downloads": exact["downloads"],
        "likes": exact["likes"],
    }


@cached_query
def category_options(build: Build, column: str, limit: int = 300) -> list[dict[str, Any]]:
    """Dropdown options of a category column, most frequent first, with their counts: at most
    ``limit`` of them and OPTIONS_MAX_BYTES of text; labels shortened, values longer than
    URL_VALUE_CHARS left out (a value the URL cannot carry)."""
    counts, names = category_counts(build, column), build.categories(column)
    too_long = {name for name in names if len(name) > URL_VALUE_CHARS}
    common = top_values(names, counts, limit, left_out={NO_VALUE, *too_long})
    options, size = [], 0
    for name, code in zip(common.ranked, common.codes, strict=True):
        option = {"label": f"{shorten(name, LABEL_CHARS)} ({counts[code]:,})", "value": name}
        size += len(option["label"]) + len(option["value"])
        if size > OPTIONS_MAX_BYTES:
            break
        options.append(option)
    return options


@cached_query
def model_details(build: Build, model_id: str) -> dict[str, Any] | None:
    """One model's stored fields, its parents and children with their relations, its path to its
    family's root (a lineage_path.RootPath), its family and its nearest models; None when the build
    does not hold it."""
    row = build.row(model_id)
    if row is None:
        return None
    edges = build.edges
    parent_edges = edges.of_child(row)
    parents = [
        {
            "model_id": build.model_id(edges.parent_row[e])
            if edges.parent_row[e] >= 0
            else edges.parent_id[int(e)].as_py(),
            "relation": RELATIONS[edges.relation[e]],
            "in_data": bool(edges.parent_row[e] >= 0),
        }
        for e in parent_edges[:PARENTS_LISTED]
    ]
    child_edges = edges.of_parent(row)
    downloads = np.nan_to_num(build.numbers("downloads"), nan=-1)[edges.child_row[child_edges]]
    listed = child_edges[np.argsort(-downloads, kind="stable")[:CHILDREN_LISTED]]
    children = [
        {"model_id": build.model_id(edges.child_row[e]), "relation": RELATIONS[edges.relation[e]]}
        for e in listed
    ]
    near, similarity = build.neighbours(row)
    record = build.record(row)
    family = build.families.loc[build.families["root_id"] == record["root_id"]]
    return {
        "record": record,
        "parents": parents,
        "n_parents": len(parent_edges),
        "children": children,
        "n_children": len(child_edges),
        "path_to_root": root_path(build, row),
        "family_size": int(family["size"].iat[0]) if len(family) else 1,
        "similar": [
            {"model_id": model, "similarity": round(float(s), 3)}
            for model, s in zip(build.ids(near), similarity)
        ],
    }
