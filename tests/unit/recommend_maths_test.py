"""The recommendation maths on tiny data whose answers can be checked by hand."""

import math

import numpy as np
import pytest

from polku.recommend import embeddings as emb
from polku.recommend.evaluate import metrics, split
from polku.recommend.interactions import Interactions, basket_age, recency_weights


def test_metrics_by_hand():
    truth = {0: {1, 2}, 1: {9}}
    recommended = {0: [2, 5, 1], 1: [3, 4, 5]}
    m = metrics(recommended, truth, k=3, n_candidates=10)
    assert m["hr@3"] == pytest.approx(0.5)  # user 0 hits, user 1 misses
    assert m["recall@3"] == pytest.approx((2 / 2 + 0) / 2)
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@3"] == pytest.approx((dcg / idcg) / 2)
    assert m["coverage"] == pytest.approx(5 / 10)  # {1,2,3,4,5}


def test_metrics_recall_denominator_is_capped_at_k():
    m = metrics({0: [1]}, {0: {1, 2, 3}}, k=1, n_candidates=3)
    assert m["recall@1"] == 1.0 and m["ndcg@1"] == 1.0


def _inter():
    # user a: baskets b1 (t=1): x,y ; b2 (t=2): y,z ; user b: one basket only
    return Interactions.from_records(
        ["a", "a", "a", "a", "b"], ["x", "y", "y", "z", "x"], [1, 1, 2, 2, 5], ["b1", "b1", "b2", "b2", "b3"])


def test_last_basket_holds_out_latest_basket_and_skips_single_basket_users():
    inter = _inter()
    sp = split(inter, "last-basket")
    a = inter.user_ids.index("a")
    ids = lambda s: {inter.item_ids[i] for i in s}  # noqa: E731
    assert ids(sp.truth[a]) == {"y", "z"}
    assert inter.user_ids.index("b") not in sp.truth
    assert len(sp.train) == 3  # a's first basket + b's only basket


def test_last_n_holds_out_latest_rows():
    inter = Interactions.from_records(["a"] * 4, ["p", "q", "r", "s"], [4, 1, 3, 2])
    sp = split(inter, "last-n", n=2)
    assert {inter.item_ids[i] for i in sp.truth[0]} == {"p", "r"}


def test_basket_age_counts_later_baskets_of_the_same_user():
    inter = _inter()
    assert basket_age(inter).tolist() == [1, 1, 0, 0, 0]
    w = recency_weights(inter, half_life=1.0)
    assert w.tolist() == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_cooccurrence_and_cosine_by_hand():
    # u0 bought A,B; u1 bought A,B; u2 bought A,C
    inter = Interactions.from_records(["u0", "u0", "u1", "u1", "u2", "u2"], ["A", "B", "A", "B", "A", "C"])
    items = np.arange(3)
    c = emb.cooccurrence(inter, items, chunk_users=2)  # chunks must add up
    assert c.tolist() == [[3, 2, 1], [2, 2, 0], [1, 0, 1]]
    s = emb.cosine_similarity(c)
    assert s[0, 1] == pytest.approx(2 / math.sqrt(6))
    assert s[1, 2] == 0 and s[0, 0] == 0


def test_top_eigen_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((30, 30)).astype(np.float32)
    s = a @ a.T
    w, v = emb.top_eigen(s, 3, iterations=8)
    ref = np.sort(np.linalg.eigvalsh(s.astype(np.float64)))[::-1][:3]
    assert w == pytest.approx(ref, rel=1e-3)
    for j in range(3):  # eigenvectors: S v = w v
        assert np.allclose(s @ v[:, j], w[j] * v[:, j], atol=1e-2 * w[0])


def test_embeddings_put_co_bought_items_together():
    users, items = [], []
    for u in range(10):
        pair = ["A", "B"] if u < 5 else ["C", "D"]
        users += [f"u{u}"] * 2
        items += pair
    inter = Interactions.from_records(users, items)
    e = emb.item_embeddings(inter, np.arange(4), dim=2)
    sim = e @ e.T
    a, b, c = (inter.item_ids.index(x) for x in "ABC")
    assert sim[a, b] > 0.99 and abs(sim[a, c]) < 0.01
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0)
