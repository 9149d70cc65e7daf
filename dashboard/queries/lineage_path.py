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

from collections.abc import Iterator
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
    links: list[Link] = []
    cut = AT_ROOT
    for link, _, stop in primary_links(build, row, limit):
        if link is not None:
            links.append(link)
        cut = stop
    return RootPath(links, cut)


def path_between(build: Build, a: str, b: str, limit: int = PATH_LIMIT) -> LineagePath | None:
    """The path from model a to model b through their closest common ancestor: the first model of
    b's path to its root (b itself first) that is on a's path (a itself first). None when the build
    does not hold a or b."""
    row_a, row_b = build.row(a), build.row(b)
    if row_a is None or row_b is None:
        return None
    if row_a == row_b:
        return LineagePath(build.model_id(row_a))
    up: list[Link] = []
    place = {row_a: 0}  # each model of a's path: how many of its links lead up to it
    cut_a = AT_ROOT
    for link, parent, stop in primary_links(build, row_a, limit):
        if link is not None:
            up.append(link)
            if parent is not None:
                place[parent] = len(up)
        cut_a = stop
    if row_b in place:
        return LineagePath(build.model_id(row_b), up[: place[row_b]], [])
    down: list[Link] = []
    cut_b = AT_ROOT
    for link, parent, stop in primary_links(build, row_b, limit):
        if link is not None:
            down.append(link)
            if parent in place:
                return LineagePath(link.parent, up[: place[parent]], down)
        cut_b = stop
    return LineagePath(None, cut=cut_a or cut_b)


def primary_links(
    build: Build, row: int, limit: int
) -> Iterator[tuple[Link | None, int | None, str | None]]:
    """Walk up from ``row`` along primary parents: each step yields (link, parent row or None when
    the parent is not in the data, None); the last step yields the reason the walk stopped (None:
    the root) with its last link, or with no link when it stopped at ``row`` itself."""
    seen = {row}
    child_id = build.model_id(row)
    while True:
        parent_id = primary_parent(build, row)
        if parent_id is None:
            yield None, None, AT_ROOT
            return
        if len(seen) > limit:  # limit links followed, and there is another
            yield None, None, CUT_AT_LIMIT
            return
        parent, relation = parent_link(build, row, parent_id)
        if parent in seen:
            yield None, None, CUT_AT_CYCLE
            return
        link = Link(child_id, parent_id, relation, parent is not None)
        if parent is None:
            yield link, None, CUT_AT_MISSING
            return
        seen.add(parent)
        yield link, parent, AT_ROOT
        row, child_id = parent, parent_id


def primary_parent(build: Build, row: int) -> str | None:
    """The model's primary parent id as the build chose it (None for a root)."""
    return build.details.column("primary_parent")[int(row)].as_py()


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
