"""How traits drift from parent to child: the paper's findings, measured on the build's own data.

License and language drift come from the transitions table (one row per parent link inside
the data), restricted to links whose child passes the filters; card length and
auto-generated cards by depth come from the models themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.cache import cached_query
from dashboard.data import Build
from dashboard.filters import Filters, filter_mask

NO_LICENSE = "(none)"
OTHER = "(other licenses)"
MAX_DEPTH_SHOWN = 8  # deeper models are shown with this depth ("8+")

# License classes after the paper's reading of license drift (restrictive -> permissive/copyleft).
# A license id is matched by prefix; anything unmatched is "unclassified".
LICENSE_CLASSES = {
    "permissive": ("apache", "mit", "bsd", "cc-by-4", "cc-by-3", "cc-by-2", "cc0", "unlicense", "wtfpl", "zlib",
                   "isc", "afl", "artistic", "bsl", "ecl", "ms-pl", "postgresql", "ncsa", "pddl", "odc-by"),
    "copyleft": ("gpl", "agpl", "lgpl", "cc-by-sa", "gfdl", "mpl", "epl", "eupl", "osl", "odbl"),
    "restrictive": ("llama", "gemma", "cc-by-nc", "cc-by-nd", "openrail", "creativeml", "bigscience", "bigcode",
                    "other", "deepseek", "apple", "c-uda", "intel-research", "fair-noncommercial", "mistral",
                    "qwen", "tongyi", "flux"),
}
LANGUAGE_CLASSES = ("none listed", "English only", "English + others", "one other language", "several, no English")


def license_class(license: str) -> str:
    if license == NO_LICENSE:
        return "none"
    # the longest matching prefix decides ("cc-by-nc" is restrictive although "cc-by" is not)
    best, best_length = "unclassified", 0
    for kind, prefixes in LICENSE_CLASSES.items():
        for prefix in prefixes:
            if license.startswith(prefix) and len(prefix) > best_length:
                best, best_length = kind, len(prefix)
    return best


def language_class(languages) -> str:
    languages = list(languages) if languages is not None else []
    english = "en" in languages
    if not languages:
        return LANGUAGE_CLASSES[0]
    if english:
        return LANGUAGE_CLASSES[1] if len(languages) == 1 else LANGUAGE_CLASSES[2]
    return LANGUAGE_CLASSES[3] if len(languages) == 1 else LANGUAGE_CLASSES[4]


def links(build: Build, filters: Filters, relation: str) -> pd.DataFrame:
    """The transitions whose child passes the filters, of one relation ("all": any)."""
    table = build.transitions
    keep = filter_mask(build, filters)[table["child_row"].to_numpy()]
    if relation != "all":
        keep &= (table["relation"] == relation).to_numpy()
    return table[keep]


def transition_matrix(parent: pd.Series, child: pd.Series, labels: list[str]) -> np.ndarray:
    """counts[i, j] = links whose parent has labels[i] and child labels[j]."""
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    pairs = pd.DataFrame({"p": parent.map(index), "c": child.map(index)}).value_counts()
    for (p, c), n in pairs.items():
        counts[p, c] += n
    return counts


@cached_query
def license_drift(build: Build, filters: Filters, relation: str = "all", top: int = 10) -> dict:
    """Parent -> child license counts over the ``top`` licenses (the rest as "other"), the share of
    links that change license, and the same counts by license class."""
    table = links(build, filters, relation)
    parent_full = table["parent_license"].astype(object).fillna(NO_LICENSE)
    child_full = table["child_license"].astype(object).fillna(NO_LICENSE)
    common = pd.concat([parent_full, child_full]).value_counts()
    labels = list(common.index[:top])
    parent, child = parent_full, child_full
    if len(common) > top:
        labels.append(OTHER)
        parent, child = (side.where(side.isin(labels), OTHER) for side in (parent, child))
    class_of = {name: license_class(name) for name in common.index}
    classes = ["restrictive", "permissive", "copyleft", "unclassified", "none"]
    return {
        "labels": labels,
        "counts": transition_matrix(parent, child, labels),
        "links": len(table),
        "changed": int(table["license_changed"].fillna(False).sum()),  # null where either license is unknown
        "known": int(table["license_changed"].notna().sum()),
        "class_labels": classes,
        "class_counts": transition_matrix(parent_full.map(class_of), child_full.map(class_of), classes),
    }


@cached_query
def language_drift(build: Build, filters: Filters, relation: str = "all") -> dict:
    """Parent -> child counts between language-set classes (English only, several, none listed, …)."""
    table = links(build, filters, relation)
    parent, child = table["parent_languages"].map(language_class), table["child_languages"].map(language_class)
    return {"labels": list(LANGUAGE_CLASSES), "counts": transition_matrix(parent, child, list(LANGUAGE_CLASSES)), "links": len(table)}


@cached_query
def cards_by_depth(build: Build, filters: Filters) -> pd.DataFrame:
    """Per family depth (deeper than MAX_DEPTH_SHOWN grouped): models, card length quartiles and
    10/90th percentiles over models with a card, and the share of auto-generated cards."""
    mask = filter_mask(build, filters)
    depth = np.minimum(build.numbers("depth")[mask], MAX_DEPTH_SHOWN)
    length = build.numbers("card_length")[mask]
    auto = build.numbers("card_auto_generated")[mask]
    rows = []
    for level in np.unique(depth):
        at = depth == level
        lengths = length[at & (length > 0)]
        known_auto = auto[at & ~np.isnan(auto)]
        quantiles = np.percentile(lengths, [10, 25, 50, 75, 90]) if len(lengths) else [np.nan] * 5
        rows.append({"depth": int(level), "models": int(at.sum()), "with_card": len(lengths),
                     **dict(zip(("p10", "q1", "median", "q3", "p90"), map(float, quantiles))),
                     "auto_share": float(known_auto.mean()) if len(known_auto) else np.nan,
                     "auto_known": len(known_auto)})
    return pd.DataFrame(rows, columns=["depth", "models", "with_card", "p10", "q1", "median", "q3", "p90", "auto_share", "auto_known"])
