"""Exact sums of cents (prospects.cents): never a wrap, never an OverflowError."""

from __future__ import annotations

import numpy as np
import pytest

from prospects import cents
from prospects.schema import MAX_AMOUNT_CENTS, MAX_DOCUMENT_CENTS

INT64_MAX = 2**63 - 1


def test_small_sums_stay_int64_and_equal_numpy():
    v = np.arange(1000, dtype=np.int64) * 12_345
    assert cents.total(v) == int(v.sum()) and type(cents.total(v)) is int
    index = np.arange(1000) % 7
    out = cents.sum_by(index, v, 7)
    assert out.dtype == np.int64
    assert out.tolist() == [int(v[index == k].sum()) for k in range(7)]
    assert cents.add(out, out).dtype == np.int64
    assert cents.total(np.array([], dtype=np.int64)) == 0
    assert cents.sum_by(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 3).tolist() == [0, 0, 0]


def test_sums_past_int64_are_exact_python_integers():
    """10,000 documents at the document bound: 10^19 cents, past int64's 9.2 × 10^18."""
    v = np.full(10_000, MAX_DOCUMENT_CENTS, dtype=np.int64)
    assert int(v.sum()) < 0  # what numpy does: wraps silently
    assert cents.total(v) == 10_000 * MAX_DOCUMENT_CENTS
    index = np.zeros(10_000, dtype=np.int64)
    index[:10] = 1
    by = cents.sum_by(index, v, 3)
    assert by.dtype == object
    assert by.tolist() == [9_990 * MAX_DOCUMENT_CENTS, 10 * MAX_DOCUMENT_CENTS, 0]
    both = cents.add(by, by)
    assert both.tolist() == [2 * 9_990 * MAX_DOCUMENT_CENTS, 20 * MAX_DOCUMENT_CENTS, 0]
    assert cents.total(by) == 10_000 * MAX_DOCUMENT_CENTS


def test_buckets_that_fit_come_back_as_int64_even_when_the_grand_total_would_not():
    v = np.full(20_000, MAX_DOCUMENT_CENTS, dtype=np.int64)
    index = np.arange(20_000) % 4  # 5,000 × 10^15 per bucket: fits; the whole 2 × 10^19 does not
    by = cents.sum_by(index, v, 4)
    assert by.dtype == np.int64 and by.tolist() == [5_000 * MAX_DOCUMENT_CENTS] * 4


def test_add_of_two_int64_halves_that_together_pass_int64():
    a = np.array([INT64_MAX - 5, 1], dtype=np.int64)
    b = np.array([10, 2], dtype=np.int64)
    assert cents.add(a, b).tolist() == [INT64_MAX + 5, 3]


@pytest.mark.parametrize("seed", range(5))
def test_random_amounts_near_the_bounds_match_python(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50_000))
    v = rng.integers(MAX_AMOUNT_CENTS // 2, MAX_DOCUMENT_CENTS, size=n, dtype=np.int64)
    index = rng.integers(0, 5, size=n)
    assert cents.total(v) == sum(int(x) for x in v)
    got = cents.sum_by(index, v, 5)
    assert [int(x) for x in got] == [sum(int(x) for x in v[index == k]) for k in range(5)]
