"""The rates the synthetic Hub is calibrated with, in one place.

Shapes follow the paper and the real samples in ../shared/data: a Hub that grows ~3.2x a
year (75k models in Oct 2022, 1.86M in Jul 2025), lineage tags that become common from
2023, most models roots without children, text-generation families on top. The mixes of
traits down the trees and of card kinds stay beside the code that draws them (traits.py,
cards.py); the archetypes' shares and fitness are in archetypes.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _relation_mixes() -> dict[tuple[int, bool], tuple[float, ...]]:
    return {
        (0, True): (0.44, 0.16, 0.28, 0.07, 0.05),
        (0, False): (0.72, 0.12, 0.08, 0.02, 0.06),
        (1, True): (0.52, 0.35, 0.04, 0.02, 0.07),
        (1, False): (0.62, 0.28, 0.01, 0.02, 0.07),
        (2, True): (0.82, 0.07, 0.04, 0.005, 0.065),
        (2, False): (0.88, 0.04, 0.01, 0.0, 0.07),
    }


@dataclass(frozen=True)
class Calibration:
    """Shares, probabilities and growth constants of the synthetic forest."""

    first_created: str = "2019-01-01T00:00:00"
    """Creation time of the first model (UTC, whole seconds); dates run from here ..."""

    last_created: str = "2025-07-15T00:00:00"
    """... to here, the last model's creation time."""

    growth_per_year: float = float(np.log(25.0) / 2.79)
    """Exponential growth rate of the number of models per year (x25 in 2.79 years)."""

    child_share_years: tuple[float, ...] = (2019, 2022.0, 2023.0, 2024.0, 2025.6)
    """Years at which the share of new models with a parent is given ..."""

    child_share: tuple[float, ...] = (0.04, 0.10, 0.30, 0.46, 0.52)
    """... and that share (linear in between): lineage tags were rare before 2023."""

    root_pull_weeks: float = 26.0
    """How fast (e-folding time, in weeks) a root's pull on new family members fades."""

    late_year: float = 2023.3
    """Models created from this year on use the late relation mix."""

    relation_mixes: dict[tuple[int, bool], tuple[float, ...]] = field(
        default_factory=_relation_mixes
    )
    """Shares of finetune, adapter, quantized, merge and unspecified children, by (family
    group: 0 text generation, 1 image/video generation, 2 the rest; created from late_year)."""

    attach_to_root: float = 0.7
    """Probability that a new family member hangs directly off the family's root ..."""

    attach_skew: float = 1.6
    """... otherwise off an earlier member at rank floor(k * u ** attach_skew) among the k
    earlier ones: above 1, biased to the early members."""

    hop_over_leaf: float = 0.93
    """Probability that a child drawn under a quantization or an adapter hangs off that
    model's parent instead (they seldom have children of their own)."""

    third_merge_parent: float = 0.3
    """Probability that a merge with at least three earlier family members has a third parent."""

    max_depth: int = 8
    """Deepest level of a tree: deeper models hang off their grandparent instead."""

    dropped_share: float = 0.002
    """Share of extra models with children that are referenced as parents but not listed
    (gated, deleted or renamed); only for 200 rows or more."""


CALIBRATION = Calibration()
