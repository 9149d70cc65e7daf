"""Counting bad input: every rejected or repaired row is counted, with examples.

A build never crashes on a bad row and never drops one silently: each stage
records what it rejected (row dropped) or repaired (value fixed or defaulted)
under a short reason key, and the manifest carries the counts and a few
examples of each.
"""

from __future__ import annotations

from collections import Counter, defaultdict

MAX_EXAMPLES = 5


class IssueLog:
    """Counts and up to MAX_EXAMPLES examples per (outcome, reason)."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = {"rejected": Counter(), "repaired": Counter()}
        self._examples: dict[str, defaultdict] = {"rejected": defaultdict(list), "repaired": defaultdict(list)}

    def rejected(self, reason: str, examples=(), count: int | None = None) -> None:
        self._add("rejected", reason, examples, count)

    def repaired(self, reason: str, examples=(), count: int | None = None) -> None:
        self._add("repaired", reason, examples, count)

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

    def merge(self, other: "IssueLog") -> None:
        for outcome in self._counts:
            for reason, n in other._counts[outcome].items():
                self._add(outcome, reason, other._examples[outcome][reason], n)

    def to_dict(self) -> dict:
        return {
            outcome: {
                reason: {"count": n, "examples": self._examples[outcome][reason]}
                for reason, n in sorted(self._counts[outcome].items())
            }
            for outcome in self._counts
        }

    def summary_lines(self) -> list[str]:
        return [
            f"{outcome} {n:,} row(s): {reason}"
            for outcome, counts in self._counts.items()
            for reason, n in sorted(counts.items())
        ]
