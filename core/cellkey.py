"""The cell-key method: the small, consistent random adjustment of every published count.

Why: a dashboard where anyone chooses the crime types, years, ages, sexes and territories of a
count answers an open family of sums. Hiding small cells cannot protect them there: two
published counts that differ by one hidden cell give it back exactly (violencia letal minus
homicidio is the femicide count of a municipality and year; 2013-2022 minus 2013-2021 is 2022).
Statistical offices that let users build their own tables (the Australian Bureau of Statistics'
TableBuilder, the UK's ONS for the 2021 census) add instead a small noise to every count, drawn
so that the same victims always get the same noise, however the count was asked for.

How:
- Every record (and every row of an aggregated table) has a fixed **record key** from 0 to 255,
  a hash of what identifies it in its source (``RECORD_KEY_SQL``, ``AGGREGATE_KEY_SQL``).
- The cubes store, next to each count ``n``, ``ck``: the sum of the record keys of the records
  it counts. A count asked for in any way (any filters, any grouping) is a sum of cube cells, so
  its ``ck`` is the sum of theirs: the **cell key** is ``ck mod 256``, the same whenever the same
  records are counted.
- The published count is ``n + NOISE[min(n, 3)][cell key]``: 0 stays 0 (no victims is not
  hidden), a non-zero count stays non-zero, the adjustment is at most 3 and averages 0 for
  counts of 3 or more (``NOISE`` below; ``noise_distribution`` gives it as probabilities).

Differencing two counts then gives the hidden one plus the difference of two independent
adjustments (from -6 to +6), never the count itself; asking the same count again gives the same
answer, so repeating a question does not average the noise away. Internal mode shows exact
counts. Every published figure can still be reproduced by hand: ``n`` and ``ck`` are in the
warehouse, the table is here.
"""
from __future__ import annotations

import numpy as np

MODULUS = 256
MAX_ADJUSTMENT = 3

# Record keys: fixed per record, from what identifies it in its source (not from its position
# in a load, so a rebuild with more months does not change the noise of past counts).
RECORD_KEY_SQL = ("(hash(source, coalesce(source_record_id, CAST(incident_id AS VARCHAR)), occurred_on, crime_type, "
                  "muni_code) % 256)::BIGINT")
AGGREGATE_KEY_SQL = ("(hash(source, file, row_number, crime_type, victim_sex, age_group, unit, coalesce(muni_code, "
                     "dept_code), year, month) % 256)::BIGINT")


def _row(weights: dict[int, int]) -> np.ndarray:
    """A row of the noise table: each adjustment repeated as many times as its weight (of 256)."""
    assert sum(weights.values()) == MODULUS
    return np.concatenate([np.full(w, v, dtype=np.int64) for v, w in sorted(weights.items())])


# NOISE[k][key]: the adjustment of a count k (k = 3 for every count of 3 or more).
NOISE = np.stack([
    _row({0: 256}),                                                   # 0 victims: nothing to hide
    _row({0: 176, 1: 64, 2: 16}),                                     # 1: published 1, 2 or 3
    _row({-1: 48, 0: 144, 1: 48, 2: 16}),                             # 2: published 1 to 4
    _row({-2: 22, -1: 60, 0: 92, 1: 60, 2: 20, 3: 2}),                # 3: published 1 to 6
])
# Counts of 4 or more: symmetric, mean 0, variance 1.23.
LARGE = _row({-3: 2, -2: 20, -1: 60, 0: 92, 1: 60, 2: 20, 3: 2})


def adjustment(n, ck) -> np.ndarray:
    """The noise added to counts ``n`` whose records' keys sum to ``ck`` (arrays or scalars)."""
    n = np.asarray(n, dtype=np.int64)
    key = np.mod(np.asarray(ck, dtype=np.int64), MODULUS)
    small = NOISE[np.clip(n, 0, 3), key]
    return np.where(n >= 4, LARGE[key], small)


def perturb(n, ck) -> np.ndarray:
    """The published counts: ``n`` plus its adjustment (never negative, 0 only when n is 0)."""
    n = np.asarray(n, dtype=np.int64)
    return n + adjustment(n, ck)


def noise_distribution(n: int) -> dict[int, float]:
    """The probability of each adjustment of a count ``n`` (what Metodología shows)."""
    row = LARGE if n >= 4 else NOISE[max(n, 0)]
    values, counts = np.unique(row, return_counts=True)
    return {int(v): c / MODULUS for v, c in zip(values, counts)}
