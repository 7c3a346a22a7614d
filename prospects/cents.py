"""Exact sums of cents that never wrap.

Amounts are int64 cents, each line at most :data:`prospects.schema.MAX_AMOUNT_CENTS`
and each document at most :data:`prospects.schema.MAX_DOCUMENT_CENTS` (docs/data.md); a sum
over many documents can still pass int64's 9.2e18 (about 922,000 lines at the bound),
where numpy wraps silently to a negative number. These functions sum int64 arrays
exactly: the plain numpy sum when the result cannot overflow (always, in practice), else
the high and low 32 bits summed apart and joined as Python integers.
"""

from __future__ import annotations

import numpy as np

INT64_MAX = int(np.iinfo(np.int64).max)
_LOW = np.int64(0xFFFFFFFF)


def _cannot_overflow(values: np.ndarray) -> bool:
    """Whether any sum of these values fits int64 (``n × largest magnitude`` does)."""
    return _magnitude(values) * len(values) <= INT64_MAX


def total(values: np.ndarray) -> int:
    """The exact sum of int64 cents, as a Python int."""
    v = np.asarray(values)
    if v.dtype == object:  # already Python integers (a sum of sums)
        return int(sum(int(x) for x in v))
    v = v.astype(np.int64, copy=False)
    if _cannot_overflow(v):
        return int(v.sum(dtype=np.int64))
    high, low = v >> 32, v & _LOW  # v == high * 2**32 + low, both sums fit int64
    return (int(high.sum(dtype=np.int64)) << 32) + int(low.sum(dtype=np.int64))


def sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact sums of int64 ``values`` per bucket ``index`` (0 … n-1).

    An int64 array when every sum fits (always, in practice), else an ``object`` array of
    Python integers: exact either way, never wrapped.
    """
    v = np.asarray(values).astype(np.int64, copy=False)
    out = np.zeros(n, dtype=np.int64)
    if _cannot_overflow(v):
        np.add.at(out, index, v)
        return out
    high = np.zeros(n, dtype=np.int64)
    np.add.at(high, index, v >> 32)
    np.add.at(out, index, v & _LOW)
    return _narrowed(np.array([(int(h) << 32) + int(lo) for h, lo in zip(high, out, strict=True)], dtype=object))


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` element-wise, exact: int64 when every sum fits (always, in practice),
    else an ``object`` array of Python integers."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != object and b.dtype != object and _magnitude(a) + _magnitude(b) <= INT64_MAX:
        return a.astype(np.int64) + b.astype(np.int64)
    return _narrowed(np.array([int(x) + int(y) for x, y in zip(a, b, strict=True)], dtype=object))


#: The largest integer float64 holds exactly, with every integer below it (2**53 cents:
#: about 90 trillion euros).
FLOAT_EXACT = 2**53


def fits_float(*arrays: np.ndarray) -> bool:
    """Whether every value (integers, cents) converts to float64 exactly."""
    return all(np.asarray(a).dtype != object and _magnitude(np.asarray(a)) <= FLOAT_EXACT for a in arrays)


def _magnitude(v: np.ndarray) -> int:
    return 0 if len(v) == 0 else max(abs(int(v.max())), abs(int(v.min())))


def _narrowed(exact: np.ndarray) -> np.ndarray:
    """Python integers back to int64 when they all fit."""
    if all(-INT64_MAX - 1 <= x <= INT64_MAX for x in exact):
        return exact.astype(np.int64)
    return exact


def major(values: np.ndarray, per_major: int) -> np.ndarray:
    """Cents (minor units) as amounts of the currency, ``per_major`` of them to a unit (the
    firm's, from :func:`prospects.i18n.minor_digits`: 100 cents to the euro, 1 yen to the yen), float64: the nearest double to each exact amount
    (exact to the cent below 2**53 cents), for analysis and plotting — never summed back into cents."""
    v = np.asarray(values)
    if v.dtype == object:
        return np.array([int(x) / per_major for x in v], dtype=np.float64)
    return v.astype(np.float64) / per_major
