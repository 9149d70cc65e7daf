"""The findings of "Anatomy of a Machine Learning Ecosystem", computed from a build's tables.

One module per finding: pairs (kinship configurations), resemblance (four similarity measures
with bootstrap intervals), mutation (mutation rates per trait), drift (parent vs child numbers),
ordering (trait-transition orders), structure (family sizes, depths, leaves); report puts them
together (``compute_findings``; ``BuildFindings`` prepares a build's tables once for many
variants), paper holds the paper's own numbers, apart.

Imported by the pipeline (a build stage) and the dashboard (variants on demand), so it imports
only numpy, pandas, pyarrow and rapidfuzz — nothing of pipeline/ or dashboard/ (a test checks).
"""

from findings.paper import PAPER_FINDINGS
from findings.report import MODEL_COLUMNS, BuildFindings, ScopeError, compute_findings

__all__ = ["MODEL_COLUMNS", "PAPER_FINDINGS", "BuildFindings", "ScopeError", "compute_findings"]
