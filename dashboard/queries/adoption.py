"""Families over time: how chosen families gained members month by month (adoption curves, and the
relation that brought each member in), and which families grew fastest, began most recently,
reach deepest or spread widest.

Every query counts, in each family, only the members that pass the filters (as the families
table does). A member's month is its creation month; members without a creation date are
counted and reported (``undated``), never placed on a month. "Now" is the build's newest
creation date, the end of its data, not the clock: a build of an old listing is measured in
its own time.

The per-model indexes (creation month, family, how each member came in) are computed once per
build (``Build.derived``); each query is then a few vectorised passes over the models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask
from pipeline.build_format import RELATIONS

# how a member came into its family: the family's root, or the relation of its primary-parent
# link (the link the lineage places it in its family by)
MEMBER_KINDS = ("root", *RELATIONS)
WINDOWS = (30, 90, 365)  # days a growth ranking looks back over
CHOSEN_MAX = 10  # families drawn at once
SHOWN_BY_DEFAULT = 5  # the largest families drawn when none are chosen
RANKED_ROWS = 20  # families listed by each ranking
DAY_SECONDS = 86_400


# ---------------------------------------------------------------- per-build indexes


def creation_months(build: Build) -> tuple[np.ndarray, np.datetime64]:
    """Each model's creation month, counted from the build's first creation month (-1: no
    creation date), and that first month."""
    created = build.numbers("created_at")
    known = ~np.isnan(created)
    months = np.full(build.size, -1, dtype=np.int32)
    if not known.any():
        return months, np.datetime64("1970-01", "M")
    moments = created[known].astype("datetime64[s]").astype("datetime64[M]")
    first = moments.min()
    months[known] = (moments - first).astype(np.int32)
    months.flags.writeable = False
    return months, first


def member_kinds(build: Build) -> np.ndarray:
    """Each model's way into its family, as an index into MEMBER_KINDS: the root (depth 0), or
    the relation of its primary-parent link. The lineage chooses the primary parent among the
    in-data parents one level up, strongest relation first (pipeline.lineage), so that link's
    relation is the strongest among the model's links to a parent one level above it. A model
    below the root with no such link (a build the pipeline did not make) counts as
    unspecified."""
    depth = build.numbers("depth")
    edges = build.edges
    inside = edges.parent_row >= 0
    parent, child = edges.parent_row[inside], edges.child_row[inside]
    relation = edges.relation[inside]
    one_up = depth[parent] == depth[child] - 1
    strongest = np.full(build.size, len(RELATIONS), dtype=np.int8)
    np.minimum.at(strongest, child[one_up], relation[one_up])
    strongest[strongest == len(RELATIONS)] = RELATIONS.index("unspecified")
    kinds = (strongest + 1).astype(np.int8)
    kinds[depth == 0] = MEMBER_KINDS.index("root")
    kinds.flags.writeable = False
    return kinds


def family_of_model(build: Build) -> np.ndarray:
    """Each model's family as a row of ``build.families`` (-1: the table has no row for its
    root)."""
    codes = build.families["root_code"].to_numpy()
    named = codes >= 0
    known_roots = len(build.table.column("root_id").chunk(0).dictionary) if build.size else 0
    row_of_code = np.full(known_roots, -1, dtype=np.int32)
    row_of_code[codes[named]] = np.flatnonzero(named)
    family: np.ndarray = row_of_code[build.codes("root_id")]
    family.flags.writeable = False
    return family


def newest_creation(build: Build) -> float | None:
    """The build's newest creation date (seconds since 1970): its "now"; None when no model has
    one."""
    created = build.numbers("created_at")
    return None if np.isnan(created).all() else float(np.nanmax(created))


def family_root_ids(build: Build) -> pa.Array:
    """The families' root ids in the families table's order, as one Arrow array (searched and
    sorted by the queries below)."""
    return pa.array(build.families["root_id"])


def largest_first(roots: pa.Array, rows: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """The family rows ``rows`` ordered by ``keys`` (each one value per family of the table,
    largest first, the first key first), then by root id (``roots``: every family's)."""
    columns = {f"key{place}": pa.array(-key[rows]) for place, key in enumerate(keys)}
    table = pa.table({**columns, "root": roots.take(pa.array(rows, pa.int64()))})
    order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in table.column_names])
    ordered: np.ndarray = rows[order.to_numpy()]
    return ordered


def picker_order(build: Build) -> tuple[np.ndarray, pa.Array]:
    """The families of two or more models (rows of build.families), largest first, then by root
    id: the order the family picker offers them in; and their root ids in lower case, in that
    order."""
    sizes = build.families["size"].to_numpy()
    roots = family_root_ids(build)  # (not build.derived: this runs inside it)
    order = largest_first(roots, np.flatnonzero(sizes >= 2), (sizes,))
    return order, pc.utf8_lower(roots.take(pa.array(order, pa.int64())))


def counted_members(build: Build, filters: Filters) -> np.ndarray:
    """The rows of the models that pass the filters and belong to a family of the table."""
    family = build.derived("adoption-family-of-model", family_of_model)
    return np.flatnonzero(filter_mask(build, filters) & (family >= 0))


def day_text(seconds: float) -> str:
    """A date of the build (seconds since 1970) as YYYY-MM-DD."""
    return str(np.datetime64(int(seconds), "s").astype("datetime64[D]"))


def ranked(
    build: Build, kept: np.ndarray, *keys: np.ndarray, limit: int = RANKED_ROWS
) -> np.ndarray:
    """The first ``limit`` of the family rows ``kept`` ordered by ``keys`` (largest first, the
    first key first), then by root id. Only the families whose first key reaches the
    ``limit``-th largest are sorted (a few of 660,000)."""
    if len(kept) > limit > 0:
        first = keys[0][kept]
        kept = kept[first >= np.partition(first, len(first) - limit)[len(first) - limit]]
    roots = build.derived("adoption-family-root-ids", family_root_ids)
    return largest_first(roots, kept, keys)[:limit]


def prepare_adoption(build: Build) -> None:
    """Compute the per-build indexes of these queries now (the server's warm-up), so the first
    request does not wait for them (~300 ms on the real listing)."""
    build.derived("adoption-family-of-model", family_of_model)
    build.derived("adoption-family-root-ids", family_root_ids)
    build.derived("adoption-creation-months", creation_months)
    build.derived("adoption-member-kinds", member_kinds)
    build.derived("adoption-picker-order", picker_order)
    build.derived("adoption-newest-creation", newest_creation)


# ---------------------------------------------------------------- choosing families


@cached_query
def largest_families(build: Build, filters: Filters, count: int = SHOWN_BY_DEFAULT) -> list[str]:
    """The root ids of the ``count`` families with the most members passing the filters (ties:
    root id order): the families drawn when the user chose none."""
    family = build.derived("adoption-family-of-model", family_of_model)
    members = np.bincount(family[counted_members(build, filters)], minlength=len(build.families))
    top = ranked(build, np.flatnonzero(members > 0), members, limit=count)
    roots: list[str] = build.families["root_id"].iloc[top].astype(str).tolist()
    return roots


@cached_query
def find_families(build: Build, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Families of two or more models whose root id contains ``text`` (literally, any case), as
    the family picker offers them: the root id that is text itself first, then the roots whose
    name after the slash is text, then the rest; each group largest first. Empty text: the
    largest families. [{"root_id", "size"}]."""
    families = build.families
    order, lower = build.derived("adoption-picker-order", picker_order)
    text = " ".join((text or "").split()).lower()
    found = order[:limit] if not text else np.zeros(0, dtype=np.int64)
    if text:
        for group in (
            pc.equal(lower, text),  # the root id itself, any case
            pc.ends_with(lower, f"/{text}"),  # the name after the slash
            pc.match_substring(lower, text),
        ):
            hits = order[np.asarray(group.to_numpy(zero_copy_only=False), dtype=bool)]
            found = np.concatenate([found, hits[~np.isin(hits, found)][: limit - len(found)]])
            if len(found) >= limit:
                break
    sizes = families["size"].to_numpy()
    return [
        {"root_id": str(families["root_id"].iat[row]), "size": int(sizes[row])} for row in found
    ]


# ---------------------------------------------------------------- adoption curves


@cached_query
def adoption_curves(build: Build, filters: Filters, roots: tuple[str, ...]) -> dict[str, Any]:
    """The chosen families' members (those passing the filters) by creation month, from the
    first month any of them holds a member to the build's newest month.

    {"months": ["YYYY-MM", …], "families": one record per chosen family of the build, in the
    order chosen: {"root_id", "members" (passing the filters), "undated" (of those, without a
    creation date: not in the curves), "first" (index of its first month in months; None when
    no member has a date), "cumulative" (members by the end of each month), "normalized"
    (cumulative from its first month on, divided by its members at the end of that month:
    1.0 at month 0), "added" (members added each month by each of MEMBER_KINDS: a
    (len(MEMBER_KINDS), len(months)) array)}, "undated": the chosen families' undated members in
    all, "not_found": the chosen roots that are no family of this build}."""
    roots = tuple(dict.fromkeys(str(root) for root in roots))[:CHOSEN_MAX]
    ids = build.derived("adoption-family-root-ids", family_root_ids)
    chosen = np.flatnonzero(  # a scan of the root ids for the few chosen (hashing 660,000: 0.8 s)
        pc.is_in(ids, value_set=pa.array(roots, ids.type)).to_numpy(zero_copy_only=False)
    )
    row_of = dict(zip(ids.take(pa.array(chosen, pa.int64())).to_pylist(), chosen.tolist()))
    found = [(root, row_of[root]) for root in roots if root in row_of]
    not_found = [root for root in roots if root not in row_of]
    # each family's place among those found; the extra last entry is that of family -1 (none)
    slot_of_family = np.full(len(build.families) + 1, -1, dtype=np.int64)
    slot_of_family[np.array([row for _, row in found], dtype=np.int64)] = np.arange(len(found))
    slot_of_model = slot_of_family[build.derived("adoption-family-of-model", family_of_model)]
    rows = np.flatnonzero((slot_of_model >= 0) & filter_mask(build, filters))
    slots = slot_of_model[rows]
    months, first_month = build.derived("adoption-creation-months", creation_months)
    month, kind = months[rows], build.derived("adoption-member-kinds", member_kinds)[rows]
    dated = month >= 0
    members = np.bincount(slots, minlength=len(found))
    undated = np.bincount(slots[~dated], minlength=len(found))
    # from the chosen families' first month to the build's newest (none: no member has a date)
    start, end = (int(month[dated].min()), int(months.max())) if dated.any() else (0, -1)
    span = end - start + 1
    slots, month, kind = slots[dated], month[dated] - start, kind[dated]
    added = np.bincount(
        (slots * len(MEMBER_KINDS) + kind) * span + month,
        minlength=len(found) * len(MEMBER_KINDS) * span,
    ).reshape(len(found), len(MEMBER_KINDS), span)
    firsts = np.full(len(found), span, dtype=np.int64)
    np.minimum.at(firsts, slots, month)
    return {
        "months": (first_month + np.arange(start, end + 1)).astype(str).tolist(),
        "families": [
            curve_record(
                root,
                members[slot],
                undated[slot],
                int(firsts[slot]) if firsts[slot] < span else None,
                added[slot],
            )
            for slot, (root, _) in enumerate(found)
        ],
        "undated": int(undated.sum()),
        "not_found": not_found,
    }


def curve_record(
    root_id: str, members: int, undated: int, first: int | None, added: np.ndarray
) -> dict[str, Any]:
    """One family's record of adoption_curves."""
    cumulative = np.cumsum(added.sum(axis=0)).astype(np.int64)
    normalized = (
        cumulative[first:] / cumulative[first] if first is not None else np.zeros(0, np.float64)
    )
    return {
        "root_id": root_id,
        "members": int(members),
        "undated": int(undated),
        "first": first,
        "cumulative": cumulative,
        "normalized": normalized,
        "added": added.astype(np.int64),
    }


# ---------------------------------------------------------------- rankings over a window


def window_counts(build: Build, filters: Filters, days: int) -> dict[str, Any]:
    """Per family (rows of build.families), its members passing the filters ("members"), those
    created on or before the window's start ("before") and within the window ("added"; the
    window is the ``days`` days up to the build's newest creation date), and how many of the
    counted members have no creation date ("undated", all families together)."""
    family = build.derived("adoption-family-of-model", family_of_model)
    rows = counted_members(build, filters)
    created, families = build.numbers("created_at")[rows], family[rows]
    dated = ~np.isnan(created)
    now = build.derived("adoption-newest-creation", newest_creation)
    now = 0.0 if now is None else now
    start = now - days * DAY_SECONDS
    after = dated & (created > start)
    size = len(build.families)
    return {
        "members": np.bincount(families, minlength=size),
        "before": np.bincount(families[dated & ~after], minlength=size),
        "added": np.bincount(families[after], minlength=size),
        "undated": int((~dated).sum()),
        "now": now,
        "start": start,
        "rows": rows,
        "created": created,
        "families": families,
    }


def window_answer(
    counts: dict[str, Any], listed: np.ndarray, days: int, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ranking's answer: its rows with the window's dates and the counts said beside it."""
    return {
        "days": int(days),
        "now": day_text(counts["now"]),
        "start": day_text(counts["start"]),
        "listed": int(len(listed)),
        "undated": counts["undated"],
        "rows": rows,
    }


@cached_query
def fastest_growing(build: Build, filters: Filters, days: int = 90) -> dict[str, Any]:
    """The families (of two or more members passing the filters) that gained the most members
    in the last ``days`` days of the build's data: {"days", "now", "start" (YYYY-MM-DD),
    "listed": how many families gained any, "undated": counted members without a creation date
    (in no window), "rows": the first RANKED_ROWS, most added first (then the highest growth),
    each {"root_id", "members", "before" (members by the window's start), "added", "growth"
    (added / before; None when the family began within the window)}}."""
    counts = window_counts(build, filters, days)
    before, added = counts["before"], counts["added"]
    growth = np.where(before > 0, added / np.maximum(before, 1), np.inf)
    gained = np.flatnonzero((added > 0) & (counts["members"] > 1))
    top = ranked(build, gained, added, growth)
    roots = build.families["root_id"]
    rows = [
        {
            "root_id": str(roots.iat[row]),
            "members": int(counts["members"][row]),
            "before": int(before[row]),
            "added": int(added[row]),
            "growth": float(growth[row]) if before[row] > 0 else None,
        }
        for row in top
    ]
    return window_answer(counts, gained, days, rows)


@cached_query
def newest_large_families(build: Build, filters: Filters, days: int = 90) -> dict[str, Any]:
    """The largest families (two or more members passing the filters) whose first member with a
    creation date was created in the last ``days`` days of the build's data: the same keys as
    fastest_growing, with rows {"root_id", "members", "began" (YYYY-MM-DD: its first member's
    creation date)}, most members first."""
    counts = window_counts(build, filters, days)
    new = np.flatnonzero((counts["before"] == 0) & (counts["added"] > 0) & (counts["members"] > 1))
    top = ranked(build, new, counts["members"])
    in_window = counts["created"] > counts["start"]  # NaN (undated) is never in it
    began = np.full(len(build.families), np.inf)
    np.minimum.at(began, counts["families"][in_window], counts["created"][in_window])
    roots = build.families["root_id"]
    rows = [
        {
            "root_id": str(roots.iat[row]),
            "members": int(counts["members"][row]),
            "began": day_text(began[row]),
        }
        for row in top
    ]
    return window_answer(counts, new, days, rows)


def generations(build: Build, filters: Filters) -> dict[str, np.ndarray]:
    """Per family (rows of build.families), over its members passing the filters: how many
    ("members"), its deepest member's depth ("depth") and its widest generation: the most
    members at one depth ("widest") and that depth ("widest_depth", the shallowest of equally
    wide ones)."""
    family = build.derived("adoption-family-of-model", family_of_model)
    rows = counted_members(build, filters)
    size = len(build.families)
    members = np.bincount(family[rows], minlength=size)
    rows = rows[members[family[rows]] > 1]  # a family of one model has one generation
    depth = build.numbers("depth")[rows].astype(np.int64)
    levels = int(depth.max()) + 1 if len(rows) else 1
    keys, counts = np.unique(family[rows].astype(np.int64) * levels + depth, return_counts=True)
    families, depths = keys // levels, keys % levels
    deepest = np.zeros(size, dtype=np.int64)
    np.maximum.at(deepest, families, depths)
    # the widest generation: keys are ordered by family, then depth; the most members first,
    # then the shallowest, is the first of each family in this order
    order = np.lexsort((depths, -counts, families))
    first = np.ones(len(order), dtype=bool)
    first[1:] = families[order][1:] != families[order][:-1]
    widest, widest_depth = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    widest[families[order][first]] = counts[order][first]
    widest_depth[families[order][first]] = depths[order][first]
    return {
        "members": members,
        "depth": deepest,
        "widest": widest,
        "widest_depth": widest_depth,
    }


def generation_rows(
    build: Build, shape: dict[str, np.ndarray], top: np.ndarray
) -> list[dict[str, Any]]:
    roots = build.families["root_id"]
    return [
        {
            "root_id": str(roots.iat[row]),
            "members": int(shape["members"][row]),
            "depth": int(shape["depth"][row]),
            "widest": int(shape["widest"][row]),
            "widest_depth": int(shape["widest_depth"][row]),
        }
        for row in top
    ]


@cached_query
def deepest_families(build: Build, filters: Filters) -> dict[str, Any]:
    """The families whose members (passing the filters) reach deepest below their root:
    {"listed": families of two or more members, "rows": the first RANKED_ROWS, deepest first
    (then the most members), each {"root_id", "members", "depth", "widest", "widest_depth"}}."""
    shape = generations(build, filters)
    several = np.flatnonzero(shape["members"] > 1)
    top = ranked(build, several, shape["depth"], shape["members"])
    return {"listed": int(len(several)), "rows": generation_rows(build, shape, top)}


@cached_query
def widest_families(build: Build, filters: Filters) -> dict[str, Any]:
    """The families with the widest generation (the most members, passing the filters, at one
    depth below their root): the same keys as deepest_families, widest first (then the most
    members)."""
    shape = generations(build, filters)
    several = np.flatnonzero(shape["members"] > 1)
    top = ranked(build, several, shape["widest"], shape["members"])
    return {"listed": int(len(several)), "rows": generation_rows(build, shape, top)}


def adoption_report(
    build: Build, filters: Filters, roots: tuple[str, ...], days: int
) -> dict[str, Any]:
    """The Families view's Over time and Fastest growing numbers as plain JSON data (GET
    /api/adoption): the curves of ``roots`` (none: the SHOWN_BY_DEFAULT largest families), with
    their arrays as lists, and the four rankings over a window of ``days`` days."""
    roots = roots or tuple(largest_families.cached(build, filters))
    curves = adoption_curves.cached(build, filters, roots)
    families = [
        {
            **family,
            "cumulative": family["cumulative"].tolist(),
            "normalized": family["normalized"].tolist(),
            "added": dict(zip(MEMBER_KINDS, family["added"].tolist(), strict=True)),
        }
        for family in curves["families"]
    ]
    return {
        "build": build.version,
        "curves": {**curves, "families": families},
        "fastest_growing": fastest_growing.cached(build, filters, days),
        "newest_large_families": newest_large_families.cached(build, filters, days),
        "deepest_families": deepest_families.cached(build, filters),
        "widest_families": widest_families.cached(build, filters),
    }
