"""The findings stage of `hfmap build`: findings.json in every build, full or incremental, in the
shape GET /api/findings answers (issue 14), with numbers checked against the build's own tables."""

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from findings.pairs import CONFIGURATIONS
from findings.resemblance import MEASURES
from hfmap.cli import main
from pipeline.build_format import FINDINGS, read_manifest, resolve_build

TRAITS = ("license", "language", "pipeline", "library")


def refuse_constant(name: str):
    raise AssertionError(f"findings.json holds {name}: every number must be finite or null")


def stored_findings(build: Path) -> dict:
    text = (build / FINDINGS).read_text(encoding="utf-8")
    return json.loads(text, parse_constant=refuse_constant)


def mutation_by_hand(build: Path, column: str, relation: str) -> tuple[float, int]:
    """The mutation rate of one trait over one relation's links between two models of the build,
    computed with Python sets from the build's parquet tables."""
    models = pq.read_table(build / "models.parquet", columns=["model_id", column]).to_pylist()
    edges = pd.read_parquet(build / "edges.parquet")

    def values(value: str | list[str] | None) -> frozenset:
        if value is None or isinstance(value, str):
            return frozenset([value] if value else [])
        return frozenset(item for item in value if item)

    trait = {model["model_id"]: values(model[column]) for model in models}
    links = edges[(edges["relation"] == relation) & (edges["parent_id"] != edges["child_id"])]
    rates = []
    for parent, child in set(zip(links["parent_id"], links["child_id"], strict=True)):
        first, second = trait.get(parent), trait.get(child)
        if first and second:  # both in the build, both report the trait
            rates.append(len(first ^ second) / len(first | second))
    return sum(rates) / len(rates), len(rates)


def assert_findings_shape(found: dict, models: int) -> None:
    assert found["scope"]["models"] == models and found["scope"]["family"] is None
    for trait in TRAITS:
        rate = found["mutation_rates"][trait]
        assert set(rate) == {"rate", "links", "relation"}
        assert rate["links"] > 0 and 0 <= rate["rate"] <= 1
    assert set(found["resemblance"]) == set(CONFIGURATIONS)
    for configuration, measures in found["resemblance"].items():
        assert set(measures) == set(MEASURES), configuration
        for measure, numbers in measures.items():
            assert set(numbers) >= {"mean", "ci_low", "ci_high", "pairs"}, (configuration, measure)
            if numbers["pairs"]:
                assert numbers["ci_low"] <= numbers["mean"] <= numbers["ci_high"]
    assert found["resemblance"]["parent_child"]["tags_jaccard"]["pairs"] > 0
    for trait in TRAITS:
        order = found["orderings"][trait]
        assert set(order) >= {"order", "edges_agreeing", "edges_total", "share_down"}
        assert len(order["order"]) == len(set(order["order"])) > 1
        assert 0 <= order["edges_agreeing"] <= order["edges_total"]
    assert found["structure"]["models"] == models


def test_the_sample_build_stores_its_findings(sample_build):
    build = resolve_build(sample_build)
    manifest = read_manifest(build)
    found = stored_findings(build)
    assert_findings_shape(found, manifest.counts.models)
    assert "findings" in manifest.stage_seconds
    # the sample's links are typed: the default is finetune links, as in the paper
    rate = found["mutation_rates"]["license"]
    assert rate["relation"] == "finetune"
    expected_rate, expected_links = mutation_by_hand(build, "licenses", "finetune")
    assert rate["links"] == expected_links and rate["rate"] == pytest.approx(expected_rate)
    pipeline = found["mutation_rates"]["pipeline"]
    expected_rate, expected_links = mutation_by_hand(build, "pipeline_tag", "finetune")
    assert pipeline["links"] == expected_links and pipeline["rate"] == pytest.approx(expected_rate)


def build_from(tmp_path: Path, frame: pd.DataFrame) -> Path:
    source = tmp_path / "source.parquet"
    frame.to_parquet(source)
    argv = ["build", "--source", str(source), "--embedder", "tfidf", "--quiet"]
    argv += ["--out", str(tmp_path / "builds"), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    return resolve_build(tmp_path / "builds")


def test_an_incremental_build_recomputes_its_findings(tmp_path, sample_published):
    earlier = sample_published.drop(sample_published.sample(frac=0.03, random_state=0).index)
    first = build_from(tmp_path, earlier)
    second = build_from(tmp_path, sample_published)
    assert read_manifest(second).mode == "incremental"
    assert "findings" in read_manifest(second).stage_seconds

    before, after = stored_findings(first), stored_findings(second)
    assert before["scope"]["models"] == len(earlier)
    assert_findings_shape(after, len(sample_published))
    rate = after["mutation_rates"]["license"]
    expected_rate, expected_links = mutation_by_hand(second, "licenses", "finetune")
    assert rate["links"] == expected_links and rate["rate"] == pytest.approx(expected_rate)
    assert before["mutation_rates"]["license"]["links"] < expected_links
