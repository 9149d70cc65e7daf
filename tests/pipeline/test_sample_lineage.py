"""On the bundled real sample, computed lineage agrees with the exports' own depth and child
lists."""

import pytest

from pipeline.lineage import build_lineage
from pipeline.report import IssueLog
from pipeline.sources import load_source
from pipeline.sources.family_exports import CHILD_LIST_RELATIONS, child_ids, read_export
from pipeline.sources.normalize import clean_model_id


@pytest.fixture(scope="module")
def sample_lineage():
    log = IssueLog()
    models = load_source("sample", log)
    return build_lineage(models, log), log


def _export_rows(shared_data):
    for path in sorted(shared_data.glob("*_tree.csv")):
        for row in read_export(path):
            yield path.name, clean_model_id(row["model_id"])[0], row


def test_depth_matches_every_export_row(shared_data, sample_lineage):
    lineage, _ = sample_lineage
    depth = dict(zip(lineage.models["model_id"], lineage.models["depth"]))
    mismatches = [
        (f, i, row["depth"], depth[i])
        for f, i, row in _export_rows(shared_data)
        if int(row["depth"]) != depth[i]
    ]
    assert mismatches == []
    assert max(depth.values()) == 3


def test_children_match_every_export_child_list(shared_data, sample_lineage):
    """The exports also list 4,829 children they did not export (mostly adapters): those
    are not models of the sample, so only children that are rows are compared."""
    lineage, _ = sample_lineage
    in_data = set(lineage.models["model_id"])
    edges = lineage.edges[lineage.edges["parent_in_data"]]
    computed = {
        (p, c, r) for p, c, r in zip(edges["parent_id"], edges["child_id"], edges["relation"])
    }
    exported = {
        (model_id, child, relation)
        for _, model_id, row in _export_rows(shared_data)
        for column, relation in CHILD_LIST_RELATIONS.items()
        for child in child_ids(row.get(column, ""))
        if child in in_data
    }
    assert len(computed) == 1261
    assert computed == exported
    n_children = dict(zip(lineage.models["model_id"], lineage.models["n_children"]))
    for _, model_id, row in _export_rows(shared_data):
        listed = {
            c
            for column in CHILD_LIST_RELATIONS
            for c in child_ids(row.get(column, ""))
            if c in in_data
        }
        assert n_children[model_id] == len(listed)


def test_each_export_is_one_family_rooted_at_its_base_model(shared_data, sample_lineage):
    lineage, log = sample_lineage
    families = lineage.families.set_index("root_id")
    for path in sorted(shared_data.glob("*_tree.csv")):
        rows = read_export(path)
        root = next(clean_model_id(r["model_id"])[0] for r in rows if r["depth"] == "0")
        assert families.loc[root, "size"] == len(rows)
    assert len(families) == 10
    assert log.count("rejected") == 0
