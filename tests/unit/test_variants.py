"""Variant assignment by stable hash."""

from __future__ import annotations

import pytest

from polku.journeys.variants import assign, bucket


def test_same_customer_same_journey_same_variant():
    assert assign("c1", "welcome", {"A": 0.5, "B": 0.5}) == assign("c1", "welcome", {"B": 0.5, "A": 0.5})


def test_shares_are_respected_over_many_customers():
    got = [assign(f"c{i}", "welcome", {"A": 0.8, "holdout": 0.2}) for i in range(5000)]
    share = got.count("holdout") / len(got)
    assert 0.17 < share < 0.23


def test_journeys_hash_independently():
    a = [bucket(f"c{i}", "welcome") for i in range(200)]
    b = [bucket(f"c{i}", "win_back") for i in range(200)]
    assert a != b and all(0 <= x < 1 for x in a + b)


@pytest.mark.parametrize("splits", [{}, {"A": 0.7}, {"A": 1.2, "B": -0.2}])
def test_bad_splits_are_refused(splits):
    with pytest.raises(ValueError, match="splits"):
        assign("c1", "j", splits)
