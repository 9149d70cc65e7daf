"""Paths through the family trees: a model's chain of primary parents up to its family's root, and
the path between two models through their closest common ancestor.

Both follow the build's primary parents only (the ``primary_parent`` column: the pipeline's one
chosen parent per model, see pipeline.lineage), so every model has one path up and two models of
a family meet on one ancestor. Each step reads one model's primary parent and its parent links
(``Edges.of_child``), never a scan of the whole build; a walk stops at its ``limit``, at a parent
outside the data, and at a parent already on the path (a cycle, which a hand-edited or damaged
build may hold), and says where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from pipeline.build_format import RELATIONS

PATH_LIMIT = 64  # links a walk follows at most (the real Hub's longest chain is 39 links)
AT_ROOT = None  # RootPath.cut: the walk reached the family's root
CUT_AT_CYCLE = "cycle"  # the next parent is already on the path
CUT_AT_LIMIT = "limit"  # the path goes on beyond the limit
CUT_AT_MISSING = "missing"  # the last parent is not a model of this build


@cache_value_type
@dataclass(frozen=True)
class Link:
    """One primary-parent link: ``child``'s primary parent is ``parent``, by ``relation`` (one of
    RELATIONS, the strongest link between the two)."""

    child: str
    parent: str
    relation: str
    parent_in_data: bool


@cache_value_type
@dataclass(frozen=True)
class RootPath:
    """The links from a model up to its family's root, the model's own primary parent first
    (empty for a root), and where the walk stopped short of the root: ``cut`` is AT_ROOT (None)
    when it did not, else CUT_AT_CYCLE, CUT_AT_LIMIT or CUT_AT_MISSING."""

    links: list[Link] = field(default_factory=list)
    cut: str | None = AT_ROOT


@cache_value_type
@dataclass(frozen=True)
class LineagePath:
    """Two models' path through their closest common ancestor: ``up`` the links from model a up to
    it, ``down`` the links from model b up to it (shown reversed, downwards). ``ancestor`` None:
    they share no ancestor, or none within the walks' limit when ``cut`` says a walk stopped short
    of its root (CUT_AT_CYCLE, CUT_AT_LIMIT or CUT_AT_MISSING)."""

    ancestor: str | None
    up: list[Link] = field(default_factory=list)
    down: list[Link] = field(default_factory=list)
    cut: str | None = AT_ROOT


def path_to_root(build: Build, model_id: str, limit: int = PATH_LIMIT) -> RootPath:
    """The model's primary-parent links up to its family's root (at most ``limit``); an empty path
    for a root or for a model the build does not hold."""
    row = build.row(model_id)
    return RootPath() if row is None else root_path(build, row, limit)


def root_path(build: Build, row: int, limit: int = PATH_LIMIT) -> RootPath:
    """``path_to_root`` of the model at a row."""
    return walk_up(build, row, limit)[0]


def path_between(build: Build, a: str, b: str, limit: int = PATH_LIMIT) -> LineagePath | None:
    """The path from model a to model b through their closest common ancestor: the first model of
    b's path to its root (b itself first) that is on a's path (a itself first). None when the build
    does not hold a or b."""
    row_a, row_b = build.row(a), build.row(b)
    if row_a is None or row_b is None:
        return None
    return rows_path(build, row_a, row_b, limit)


def rows_path(build: Build, row_a: int, row_b: int, limit: int = PATH_LIMIT) -> LineagePath:
    """``path_between`` the models at two rows."""
    path_a, rows_a = walk_up(build, row_a, limit)
    path_b, rows_b = walk_up(build, row_b, limit)
    place = {row: links for links, row in enumerate([row_a, *rows_a]) if row >= 0}
    for links, row in enumerate([row_b, *rows_b]):
        if row in place:
            ancestor = path_b.links[links - 1].parent if links else build.model_id(row_b)
            return LineagePath(ancestor, path_a.links[: place[row]], path_b.links[:links])
    return LineagePath(None, cut=path_a.cut or path_b.cut)


def walk_up(build: Build, row: int, limit: int) -> tuple[RootPath, list[int]]:
    """The path from ``row`` up along primary parents, and the row of each link's parent (-1 for a
    parent outside the data). Stops at the root, after ``limit`` links, at a parent outside the
    data, or before a parent already on the path."""
    links: list[Link] = []
    rows: list[int] = []
    seen = {row}
    child_id = build.model_id(row)
    while (parent_id := primary_parent(build, row)) is not None:
        if len(links) == limit:
            return RootPath(links, CUT_AT_LIMIT), rows
        parent, relation = parent_link(build, row, parent_id)
        if parent in seen:
            return RootPath(links, CUT_AT_CYCLE), rows
        links.append(Link(child_id, parent_id, relation, parent is not None))
        if parent is None:
            return RootPath(links, CUT_AT_MISSING), rows + [-1]
        rows.append(parent)
        seen.add(parent)
        row, child_id = parent, parent_id
    return RootPath(links), rows


def primary_parent(build: Build, row: int) -> str | None:
    """The model's primary parent id as the build chose it (None for a root)."""
    parent: str | None = build.details.column("primary_parent")[int(row)].as_py()
    return parent


def parent_link(build: Build, row: int, parent_id: str) -> tuple[int | None, str]:
    """The row of a model's parent (None when it is not in the data) and their strongest relation,
    from the model's parent links; a parent the links do not name (a damaged build) is looked up by
    id, its relation "unspecified"."""
    edges = build.edges
    links = edges.of_child(row)
    named = [e for e in links if edges.parent_id[int(e)].as_py() == parent_id]
    if not named:
        return build.row(parent_id), RELATIONS[-1]
    strongest = min(named, key=lambda e: edges.relation[e])
    parent = int(edges.parent_row[strongest])
    return (parent if parent >= 0 else None), RELATIONS[int(edges.relation[strongest])]
