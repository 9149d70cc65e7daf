"""The paper's findings on the served build (issue 14): the Evolution view and /api/findings.

The default variant (no relation, no family) is the build's stored findings.json, written by the
pipeline's findings stage; a variant for one relation or one family is computed on demand by one
findings.BuildFindings kept with the build (its tables prepared once). A relation or family the
build does not have raises findings.ScopeError, a ValueError whose message is one sentence.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from dashboard.cache import cached_query
from dashboard.data import Build
from findings import BuildFindings, ScopeError
from findings.mutation import ALL_RELATIONS
from pipeline.build_format import RELATIONS, BuildFormatError

__all__ = [
    "FindingsUnavailableError",
    "ScopeError",
    "build_findings",
    "findings_relations",
    "prepared_findings",
]

log = logging.getLogger("hfmap.dashboard")


class FindingsUnavailableError(Exception):
    """The served build's files are gone (pruned while it was served): a variant cannot be
    computed until the server has moved to the current build (at its next request)."""


def prepared_findings(build: Build) -> BuildFindings:
    """The build's models (the columns the findings read), edges and embeddings, prepared once
    and kept with the build."""

    def prepare(build: Build) -> BuildFindings:
        files = build.files
        found = BuildFindings.read(files.table("models"), files.table("edges"), files.embeddings)
        found.structure  # noqa: B018  (every whole-build variant reads it: computed once, here)
        return found

    prepared: BuildFindings = build.derived("findings", prepare)
    return prepared


def stored_findings(build: Build) -> dict[str, Any] | None:
    """The findings the pipeline stored in the build, or None for a build made before the
    findings stage existed."""
    try:
        text = build.files.findings.read_text(encoding="utf-8")
    except FileNotFoundError:
        log.warning("build %s has no %s: computing its findings", build.version, "findings.json")
        return None
    stored: dict[str, Any] = json.loads(text)
    return stored


@cached_query
def build_findings(build: Build, relation: str | None, family: str | None) -> dict[str, Any]:
    """Every finding of the build (the shape of findings.compute_findings) for the links of
    ``relation`` (None: the default) inside the family rooted at ``family`` (None: every model).
    ScopeError (a ValueError) for a relation or family the build does not have."""
    relation, family = relation or None, family or None
    if relation is None and family is None:
        stored = stored_findings(build)
        if stored is not None:
            return stored
    try:
        prepared = prepared_findings(build)
    except (OSError, BuildFormatError) as error:  # the build was pruned while served
        log.warning("findings of build %s are unavailable: %s", build.version, error)
        raise FindingsUnavailableError(
            f"The build {build.version} was replaced while it was shown; reload the page."
        ) from None
    found: dict[str, Any] = prepared.findings(relation, family)
    return found


@cached_query
def findings_relations(build: Build) -> list[str]:
    """The relations a caller may choose: those of the links between two models of the build,
    and "all" (the same list as findings.BuildFindings.relations, read from the dashboard's
    edges without preparing the findings)."""
    parent, child = build.edges.parent_row, build.edges.child_row
    inside = (parent >= 0) & (child >= 0) & (parent != child)
    present = {RELATIONS[code] for code in np.unique(build.edges.relation[inside]).tolist()}
    return sorted(present | {ALL_RELATIONS})
