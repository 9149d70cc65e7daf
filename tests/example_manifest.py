"""A complete, made-up manifest for tests that write or read builds without running the pipeline."""

from __future__ import annotations

from pipeline.build_format import Counts, EmbedderInfo, EmbeddingCounts, History, Manifest


def manifest_for(build_id: str, source: str = "sample", **changes) -> Manifest:
    """A full build's manifest with every count zero; ``changes`` replaces fields."""
    fields = dict(
        build_id=build_id,
        created_at="2026-11-30T10:00:00+00:00",
        hfmap_version="0.1.0",
        source=source,
        counts=Counts(*[0] * 12),
        embedder=EmbedderInfo(name="tfidf", dim=64, state_id="0123456789abcdef"),
        embedding=EmbeddingCounts(newly_embedded=0, from_cache=0),
        neighbour_index="exact",
        mode="full",
        mode_reason="no earlier build",
        history=History(last_full_build=build_id, models_at_last_full=0, changed_since_full=0),
        options={"dim": 64, "seed": 0, "model_path": None},
        seed=0,
        stage_seconds={"write": 0.1, "total": 1.5},
        issues={"dropped": {"self-parent edge": {"count": 1, "examples": ["a -> a"]}}},
        source_columns={"read": ["id"], "unread": []},
    )
    return Manifest(**{**fields, **changes})
