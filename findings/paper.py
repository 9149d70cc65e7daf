"""The numbers "Anatomy of a Machine Learning Ecosystem: 2 Million Models on Hugging Face"
(Laufer, Oderinwale, Kleinberg) publishes, to show beside a build's own: never mixed with them.

They come from the paper (1.86M models, July 2025 snapshot, finetune links), as quoted in
issue 14; the leaf share of quantized models is the Model Atlas study's. Keys follow the shape
of ``findings.compute_findings`` so a view can put each next to the build's number.
"""

from __future__ import annotations

__all__ = ["PAPER_FINDINGS"]

PAPER_FINDINGS: dict = {
    "source": "Laufer, Oderinwale, Kleinberg: Anatomy of a Machine Learning Ecosystem "
    "(1.86M Hugging Face models, finetune links)",
    "mutation_rates": {
        "language": {"rate": 0.242, "links": 47_369, "relation": "finetune"},
        "license": {"rate": 0.198, "links": 138_694, "relation": "finetune"},
        "pipeline": {"rate": 0.411, "links": 134_711, "relation": "finetune"},
    },
    "drift": {
        "auto_generated_share": {"change": 0.253},
        "card_length": {"parent": 9_773, "child": 4_402},
        "languages": {"parent": 4.18, "child": 0.45},
    },
    "orderings": {
        "license": {"edges_agreeing": 113, "edges_total": 121, "share_down": 0.846},
        "language": {"edges_agreeing": 186, "edges_total": 189, "share_down": 0.750, "last": "en"},
        "library": {"edges_agreeing": 17, "edges_total": 17, "share_down": 0.837},
        "pipeline": {"edges_agreeing": 30, "edges_total": 32, "share_down": 0.982},
    },
    "structure": {
        "leaves_by_relation": {
            "quantized": {"leaf_share": 0.9941, "source": "the Model Atlas study"},
        },
    },
}
