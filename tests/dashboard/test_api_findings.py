"""GET /api/findings on the real sample build, through the dashboard's own Flask server and a
real Redis query cache: the stored findings, a relation, a family, and one sentence for a bad one.
"""

import json

import pandas as pd
import pytest

from findings import PAPER_FINDINGS
from pipeline.build_format import FINDINGS, resolve_build
from pipeline.config import Settings


@pytest.fixture(scope="module")
def client(sample_build, session_redis, tmp_path_factory):
    from dashboard.app import create_app

    settings = Settings(
        cache_dir=sample_build.parent / "cache",
        tracker_db=tmp_path_factory.mktemp("api-findings") / "tracker.sqlite",
        redis_url=session_redis.url,
    )
    return create_app(sample_build, settings).server.test_client()


@pytest.fixture(scope="module")
def families(sample_build) -> pd.DataFrame:
    return pd.read_parquet(resolve_build(sample_build) / "families.parquet")


def answer(client, query: str = "") -> tuple[int, dict]:
    response = client.get("/api/findings" + query)
    return response.status_code, response.get_json()


def test_the_default_answer_is_the_builds_stored_findings_beside_the_papers(client, sample_build):
    status, found = answer(client)
    assert status == 200
    stored = json.loads((resolve_build(sample_build) / FINDINGS).read_text(encoding="utf-8"))
    paper = found.pop("paper")
    assert found == stored
    assert paper == PAPER_FINDINGS  # the paper's numbers only under "paper", apart
    assert found["mutation_rates"]["license"]["relation"] == "finetune"


def test_a_relation_selects_the_links(client):
    _, default = answer(client)
    status, every = answer(client, "?relation=all")
    assert status == 200 and every["scope"]["relation"] == "all"
    for trait, rate in every["mutation_rates"].items():
        assert rate["relation"] == "all"
        assert rate["links"] >= default["mutation_rates"][trait]["links"]
    assert every["orderings"]["license"]["relation"] == "all"


def test_a_family_restricts_every_finding_to_it(client, families):
    family = families.sort_values("size").iloc[len(families) // 2]
    status, found = answer(client, f"?family={family['root_id']}")
    assert status == 200
    assert found["scope"]["family"] == family["root_id"]
    assert found["scope"]["models"] == found["structure"]["models"] == family["size"]
    _, everything = answer(client)
    assert found["scope"]["links"] < everything["scope"]["links"]


@pytest.mark.parametrize(
    ("query", "named"),
    [("?relation=cousin", "'cousin'"), ("?family=nobody/none", "'nobody/none'")],
)
def test_an_unknown_relation_or_family_is_a_400_in_one_sentence(client, query, named):
    status, found = answer(client, query)
    assert status == 400 and set(found) == {"error"}
    assert named in found["error"] and found["error"].count(". ") == 0
    assert found["error"].endswith(".")


def test_answers_are_cached_in_redis(client, session_redis):
    status, _ = answer(client, "?relation=finetune")
    assert status == 200
    keys = [key.decode() for key in session_redis.client().keys("*build_findings*")]
    assert keys, "no query-cache entry for build_findings"
