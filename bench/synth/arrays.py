"""Small Arrow and numpy helpers of the generator: templates rendered over string arrays,
ragged (list-per-row) columns, and seeded draws from discrete distributions."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STRING = pa.string()


def strings(values, type_=STRING) -> pa.Array:
    return pa.array(values, type=type_)


def take(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    return pool.take(pa.array(np.asarray(idx, dtype=np.int64)))


@cache
def template_parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """(literal text, field name or None) pairs of a str.format template."""
    return tuple((lit, field) for lit, field, _, _ in string.Formatter().parse(template))


def render(template: str, n: int, **fields) -> pa.Array:
    """``template.format(**fields)`` row by row, where fields are Arrow string arrays or str."""
    parts: list = []
    for literal, field in template_parts(template):
        if literal:
            parts.append(literal)
        if field is not None:
            parts.append(fields[field])
    if not any(isinstance(p, (pa.Array, pa.ChunkedArray)) for p in parts):
        return pa.array(["".join(parts)] * n, type=STRING)
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


def concat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays and str scalars (nulls read as "")."""
    return pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="")


def where(mask: np.ndarray, values, otherwise="") -> pa.Array:
    return pc.if_else(pa.array(mask), values, otherwise)


def as_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), STRING)


def decimals(values: np.ndarray, digits: int = 4) -> pa.Array:
    """Fractions in [0, 1) as '0.1234'."""
    ints = np.minimum((np.asarray(values) * 10**digits).astype(np.int64), 10**digits - 1)
    return pc.binary_join_element_wise("0.", pc.utf8_lpad(as_text(ints), digits, "0"), "")


def by_template(templates: list[str], which: np.ndarray, n: int, fields: dict) -> pa.Array:
    """Row i rendered with templates[which[i]]; fields are full-length arrays."""
    pieces, positions = [], []
    for t, tpl in enumerate(templates):
        sel = np.flatnonzero(which == t)
        if not len(sel):
            continue
        used = {f for _, f in template_parts(tpl)}
        sub = {
            k: (take(v, sel) if isinstance(v, pa.Array) else v)
            for k, v in fields.items()
            if k in used
        }
        pieces.append(render(tpl, len(sel), **sub))
        positions.append(sel)
    if not pieces:
        return pa.array([], type=STRING)
    flat = pa.concat_arrays([p.cast(STRING) for p in pieces])
    inv = np.empty(n, dtype=np.int64)
    inv[np.concatenate(positions)] = np.arange(n)
    return take(flat, inv)


def unique_strings(values: pa.Array, sep: str = "-") -> pa.Array:
    """Make every string unique by suffixing repeats with -2, -3, ..."""
    import pandas as pd

    for _ in range(10):
        s = pd.Series(values.to_numpy(zero_copy_only=False), dtype=object)
        dup = s.duplicated(keep="first").to_numpy()
        if not dup.any():
            return values
        rank = s.groupby(s, sort=False).cumcount().to_numpy()
        sel = np.flatnonzero(dup)
        suffixed = pc.binary_join_element_wise(take(values, sel), as_text(rank[sel] + 1), sep)
        full = np.arange(len(values))
        merged = pa.concat_arrays([values, suffixed])
        full[sel] = len(values) + np.arange(len(sel))
        values = take(merged, full)
    return values


# --------------------------------------------------------------------------------------
# Ragged columns: one list of strings per row
# --------------------------------------------------------------------------------------


@dataclass
class Ragged:
    """One list of strings per row: int64 offsets (len n+1) over a flat value array."""

    offsets: np.ndarray
    values: pa.Array

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def rows(self) -> np.ndarray:
        """Row index of every value."""
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts)

    def list_array(self) -> pa.ListArray:
        return pa.ListArray.from_arrays(pa.array(self.offsets.astype(np.int32)), self.values)

    def join(self, sep: str) -> pa.Array:
        return pc.binary_join(self.list_array(), sep)

    def prefixed(self, prefix) -> Ragged:
        return Ragged(self.offsets, pc.binary_join_element_wise(prefix, self.values, ""))

    def keep(self, mask: np.ndarray) -> Ragged:
        """Empty the rows where mask is False."""
        keep_vals = np.repeat(mask, self.counts)
        counts = np.where(mask, self.counts, 0)
        return Ragged(offsets(counts), self.values.filter(pa.array(keep_vals)))

    def subset(self, sel: np.ndarray) -> Ragged:
        """The lists of rows ``sel``."""
        counts = self.counts[sel]
        off = offsets(counts)
        rows = np.repeat(np.arange(len(sel)), counts)
        src = self.offsets[:-1][sel][rows] + (np.arange(int(off[-1])) - off[:-1][rows])
        return Ragged(off, take(self.values, src))


RaggedPool = tuple[np.ndarray, np.ndarray, pa.Array]  # offsets, lengths, flat values


def offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def ragged_pool(pool: list[list[str]]) -> RaggedPool:
    lens = np.array([len(x) for x in pool], dtype=np.int64)
    return offsets(lens), lens, pa.array([v for x in pool for v in x], type=STRING)


def ragged_take(pool: RaggedPool, idx: np.ndarray) -> Ragged:
    """Per row, the list pool[idx[row]]."""
    off, lens, vals = pool
    counts = lens[idx]
    out_off = offsets(counts)
    total = int(out_off[-1])
    rows = np.repeat(np.arange(len(idx)), counts)
    src = off[idx][rows] + (np.arange(total) - out_off[:-1][rows])
    return Ragged(out_off, take(vals, src))


def concat_ragged(parts: list[Ragged]) -> Ragged:
    """Row-wise concatenation of several ragged columns, in the given order."""
    counts = np.stack([p.counts for p in parts])  # K x n
    out_off = offsets(counts.sum(axis=0))
    start = out_off[:-1] + np.cumsum(counts, axis=0) - counts  # K x n, where part k begins
    total = int(out_off[-1])
    gather = np.empty(total, dtype=np.int64)
    base = 0
    for k, part in enumerate(parts):
        rows = part.rows()
        within = np.arange(len(rows)) - part.offsets[:-1][rows]
        gather[start[k][rows] + within] = base + np.arange(len(rows))
        base += len(rows)
    values = pa.concat_arrays([p.values.cast(STRING) for p in parts])
    return Ragged(out_off, take(values, gather))


def scalar_list(values: pa.Array, present: np.ndarray) -> Ragged:
    """[value] where present, [] elsewhere."""
    return Ragged(offsets(present.astype(np.int64)), values.filter(pa.array(present)))


# --------------------------------------------------------------------------------------
# Seeded draws
# --------------------------------------------------------------------------------------


def choice(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """``size`` draws of an index with the (unnormalized) weights ``probs``."""
    p = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    return np.searchsorted(cdf, rng.random(size), side="right").clip(0, len(p) - 1)


def choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row from a per-row (n x k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return (cum <= u[:, None]).sum(axis=1).clip(0, probs.shape[1] - 1)


def zipf_cdf(size: int, offset: float, exponent: float) -> np.ndarray:
    w = 1.0 / (np.arange(size) + offset) ** exponent
    return np.cumsum(w / w.sum())


def zipf(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    return np.searchsorted(cdf, rng.random(size), side="right").clip(0, len(cdf) - 1)


def heavy_count(rng: np.random.Generator, n: int, median: float, sigma: float, cap: int):
    """Log-normal whole counts around ``median``, at most ``cap``."""
    draws = np.floor(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)
    return np.minimum(draws, cap)
