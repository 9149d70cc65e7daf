"""A model's family as files: GraphML (networkx) and a CSV of its links.

The family is the model, every ancestor and every descendant, with each link among them
(a parent outside the build is kept as a node with only its id). The network view's download
buttons and GET /api/family.graphml and /api/family.csv send the same files.

Ids, authors, pipelines and licenses come from the Hub: untrusted text. The CSV is written by
the csv module (quoted where a value holds a comma, a quote or a line break); characters XML 1.0
cannot hold (control characters, U+FFFE, U+FFFF) are replaced by U+FFFD in the GraphML, so the
file is valid XML whatever the ids hold.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from dashboard.cache import cached_query
from dashboard.cache_codec import cache_value_type
from dashboard.data import Build
from pipeline.build_format import RELATIONS

EDGE_COLUMNS = ("parent_id", "child_id", "relation")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@cache_value_type
@dataclass
class Family:
    """A family's models (parallel lists; None where the build does not know a value) and its
    links as (parent id, child id, relation)."""

    model_id: str
    ids: list[str] = field(default_factory=list)
    authors: list[str | None] = field(default_factory=list)
    downloads: list[int | None] = field(default_factory=list)
    likes: list[int | None] = field(default_factory=list)
    pipelines: list[str | None] = field(default_factory=list)
    licenses: list[str | None] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)


def family_links(build: Build, row: int) -> tuple[np.ndarray, set[int]]:
    """The edge numbers of a model's family (every link to its ancestors, level by level up; every
    link down to its descendants) and the rows of its members."""
    edges = build.edges
    found: list[np.ndarray] = []
    members, frontier = {row}, [row]
    while frontier:  # up: all parents of each level, merges included
        links = np.concatenate([edges.of_child(r) for r in frontier])
        found.append(links)
        parents = {int(p) for p in edges.parent_row[links] if p >= 0} - members
        members |= parents
        frontier = sorted(parents)
    below, level = {row}, np.asarray([row])
    while len(level):  # down: the children of each level
        links = edges.children_of(level)
        found.append(links)
        children = {int(c) for c in edges.child_row[links]} - below
        below |= children
        level = np.asarray(sorted(children), dtype=np.int64)
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64), members | below


def known(values: np.ndarray, valid: np.ndarray) -> list[int | None]:
    return [int(v) if ok else None for v, ok in zip(values, valid, strict=True)]


def named(values: np.ndarray) -> list[str | None]:
    return [str(v) if v is not None and str(v) else None for v in values]


@cached_query
def family_export(build: Build, model_id: str) -> Family | None:
    """The family of a model of the build (None for a model it does not hold)."""
    row = build.row(model_id)
    if row is None:
        return None
    edges = build.edges
    links, members = family_links(build, row)
    rows = np.asarray(sorted(members), dtype=np.int64)
    ids = build.ids(rows)
    downloads, downloads_known = build.whole_numbers("downloads")
    likes, likes_known = build.whole_numbers("likes")
    family = Family(
        model_id,
        ids,
        named(build.category_of("author", rows)),
        known(downloads[rows], downloads_known[rows]),
        known(likes[rows], likes_known[rows]),
        named(build.category_of("pipeline_tag", rows)),
        named(build.category_of("license", rows)),
    )
    id_of = dict(zip(rows.tolist(), ids, strict=True))
    parent_ids = edges.parent_id.take(links).to_pylist() if len(links) else []
    for link, parent_id in zip(links, parent_ids, strict=True):
        parent = int(edges.parent_row[link])
        family.links.append(
            (
                id_of.get(parent, parent_id) if parent >= 0 else parent_id,
                id_of[int(edges.child_row[link])],
                RELATIONS[edges.relation[link]],
            )
        )
    outside = sorted({p for p, _, _ in family.links} - set(ids))
    for parent_id in outside:  # parents the build does not hold: their id and author only
        family.ids.append(parent_id)
        family.authors.append(parent_id.split("/")[0] if "/" in parent_id else None)
        for values in (family.downloads, family.likes, family.pipelines, family.licenses):
            values.append(None)
    return family


def xml_text(value: str) -> str:
    """A string XML 1.0 can hold: characters it cannot replaced by U+FFFD."""
    return NOT_XML.sub("\ufffd", value)


def family_graph(family: Family) -> nx.DiGraph:
    """The family as a networkx graph: nodes named by model id with the attributes id, author,
    downloads, likes, pipeline and license (those the build knows), edges with their relation."""
    graph = nx.DiGraph(model=xml_text(family.model_id))
    columns = zip(
        family.ids,
        family.authors,
        family.downloads,
        family.likes,
        family.pipelines,
        family.licenses,
        strict=True,
    )
    for model_id, author, downloads, likes, pipeline, license_ in columns:
        values = {
            "id": model_id,
            "author": author,
            "downloads": downloads,
            "likes": likes,
            "pipeline": pipeline,
            "license": license_,
        }
        graph.add_node(
            xml_text(model_id),
            **{
                key: xml_text(value) if isinstance(value, str) else value
                for key, value in values.items()
                if value is not None
            },
        )
    for parent_id, child_id, relation in family.links:
        graph.add_edge(xml_text(parent_id), xml_text(child_id), relation=relation)
    return graph


def family_graphml(family: Family) -> str:
    """The family as a GraphML document."""
    return "\n".join(nx.generate_graphml(family_graph(family), prettyprint=False)) + "\n"


def family_edges_csv(family: Family) -> str:
    """The family's links as CSV: a header, then parent_id,child_id,relation per link."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EDGE_COLUMNS)
    writer.writerows(family.links)
    return out.getvalue()


def export_file_name(model_id: str) -> str:
    """A safe file name stem for a model's family: its id with anything but letters, digits, dots,
    dashes and underscores made "_" (at most 100 characters)."""
    return (FILE_NAME.sub("_", model_id).strip("._") or "family")[:100] + "-family"
