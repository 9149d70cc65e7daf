"""Directional drift in numbers (paper §3): parent against child over the parent -> child links.

Over the links given (each (parent, child) pair once): the share of parents and of children with
a card; among those with a card, the share whose card is auto-generated; the mean card length
over links where both have a card; the mean number of languages. Card numbers are None (never
NaN) when the build has no card text (a Hub listing), and ``cards`` says so in words.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from findings.lineage import Links
from findings.tables import TraitSets, bool_column, number_column

__all__ = ["NO_CARDS", "drift_numbers"]

NO_CARDS = "This build has no card text (a Hub listing), so the card numbers cannot be computed."
NO_LINKS = "This build has no parent -> child links inside the data to compare."


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _pair(parent: float | None, child: float | None) -> dict:
    change = None if parent is None or child is None else child - parent
    return {"parent": parent, "child": child, "change": change}


def drift_numbers(models: pa.Table, links: Links, languages: TraitSets) -> dict:
    """The drift numbers over ``links`` (``languages``: each model's languages): {"links",
    "cards", "card_share", "auto_generated_share", "card_length", "languages"}, each number a
    {"parent", "child", "change"} (None where it cannot be computed)."""
    parent, child = links.unique_pairs()
    length = number_column(models, "card_length")
    has_card = bool_column(models, "has_card")
    auto = bool_column(models, "card_auto_generated")
    card_text = bool(np.any(np.nan_to_num(length) > 0))
    card_known = models.column("has_card").null_count < len(models)
    language_counts = languages.sizes
    note = None if card_text else NO_CARDS
    if not len(parent):
        note = NO_LINKS
    result: dict = {"links": int(len(parent)), "cards": note}
    empty = _pair(None, None)
    result["card_share"] = empty
    if card_known:
        result["card_share"] = _pair(_mean(has_card[parent]), _mean(has_card[child]))
    result["auto_generated_share"] = empty
    result["card_length"] = {**empty, "links": 0}
    if card_text:
        result["auto_generated_share"] = _pair(
            _mean(auto[parent][has_card[parent]]), _mean(auto[child][has_card[child]])
        )
        measured = np.isfinite(length) & has_card
        both = measured[parent] & measured[child]
        result["card_length"] = _pair(_mean(length[parent[both]]), _mean(length[child[both]]))
        result["card_length"]["links"] = int(both.sum())
    result["languages"] = _pair(_mean(language_counts[parent]), _mean(language_counts[child]))
    return result
