"""Counting bad input: every rejected row, repaired value and dropped link is counted, with
examples.

A build never crashes on a bad row and never drops one silently: each stage
records what it did under a short reason key, in one of four outcomes, each
counting its own unit:

- ``rejected`` rows: a source row left out of the build (no id, a duplicate, unreadable);
- ``repaired`` values: a value fixed or set to null (a count out of range, invalid UTF-8);
- ``dropped`` links: a parent link left out of the lineage (a self-link, a link that closes a
  cycle);
- ``outside`` links: a parent link kept although its parent is not a model of the source.

The manifest carries the counts and a few examples of each, and the source's
columns that hfmap read and did not read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

MAX_EXAMPLES = 5

# outcome -> (what its count counts, how a summary line words it)
OUTCOMES = {
    "rejected": ("rows", "rejected {n:,} row(s)"),
    "repaired": ("values", "repaired {n:,} value(s)"),
    "dropped": ("links", "dropped {n:,} parent link(s)"),
    "outside": ("links", "kept {n:,} parent link(s) to models outside the source"),
}


class IssueLog:
    """Counts and up to MAX_EXAMPLES examples per (outcome, reason), and the source's columns."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = {outcome: Counter() for outcome in OUTCOMES}
        self._examples: dict[str, defaultdict] = {
            outcome: defaultdict(list) for outcome in OUTCOMES
        }
        self._read_columns: set[str] = set()
        self._unread_columns: set[str] = set()

    def rejected(self, reason: str, examples=(), count: int | None = None) -> None:
        """Rows left out of the build."""
        self._add("rejected", reason, examples, count)

    def repaired(self, reason: str, examples=(), count: int | None = None) -> None:
        """Values fixed or set to null."""
        self._add("repaired", reason, examples, count)

    def dropped_links(self, reason: str, examples=(), count: int | None = None) -> None:
        """Parent links left out of the lineage."""
        self._add("dropped", reason, examples, count)

    def outside_links(self, reason: str, examples=(), count: int | None = None) -> None:
        """Parent links kept although their parent is not in the source."""
        self._add("outside", reason, examples, count)

    def source_columns(self, read: Iterable[str], unread: Iterable[str]) -> None:
        """Columns (or record fields) of the source that were read, and those that were not."""
        self._read_columns.update(map(str, read))
        self._unread_columns.update(map(str, unread))

    def _add(self, outcome: str, reason: str, examples, count: int | None) -> None:
        examples = list(examples)
        n = len(examples) if count is None else int(count)
        if n <= 0:
            return
        self._counts[outcome][reason] += n
        kept = self._examples[outcome][reason]
        for example in examples[: MAX_EXAMPLES - len(kept)]:
            kept.append(str(example)[:200])

    def count(self, outcome: str, reason: str | None = None) -> int:
        counts = self._counts[outcome]
        return counts[reason] if reason else sum(counts.values())

    def merge(self, other: IssueLog) -> None:
        for outcome in self._counts:
            for reason, n in other._counts[outcome].items():
                self._add(outcome, reason, other._examples[outcome][reason], n)
        self.source_columns(other._read_columns, other._unread_columns)

    def to_dict(self) -> dict:
        """{outcome: {reason: {"count": n, "examples": [...]}}} for every outcome (empty ones
        too)."""
        return {
            outcome: {
                reason: {"count": n, "examples": self._examples[outcome][reason]}
                for reason, n in sorted(self._counts[outcome].items())
            }
            for outcome in self._counts
        }

    def columns_dict(self) -> dict:
        """{"read": [...], "unread": [...]}: the source's columns, sorted."""
        return {
            "read": sorted(self._read_columns),
            "unread": sorted(self._unread_columns - self._read_columns),
        }

    def summary_lines(self) -> list[str]:
        return [
            f"{OUTCOMES[outcome][1].format(n=n)}: {reason}"
            for outcome, counts in self._counts.items()
            for reason, n in sorted(counts.items())
        ]
