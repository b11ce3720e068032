"""The sparsified-EASE rerank list and the serving fast paths, on tiny hand-checkable data."""

import gc
import json

import numpy as np
import pytest

from polku.recommend import annoy_index
from polku.recommend import embeddings as emb
from polku.recommend.embeddings import normalise_rows
from polku.recommend.interactions import Interactions
from polku.recommend.model_store import validate
from polku.recommend.strategies import CustomerHistory, Recommendation, Recommender
from polku.recommend.trained_model import ModelError, TrainedModel
from polku.recommend.training import TrainingConfig, train


def test_ease_weights_two_items_by_hand():
    # G = [[a, c], [c, b]]; P = (G + λI)⁻¹ ∝ [[b+λ, -c], [-c, a+λ]]; B_ij = -P_ij / P_jj
    a, b, c, lam = 4.0, 2.0, 1.0, 1.0
    w = emb.ease_weights(np.array([[a, c], [c, b]], dtype=np.float32), lam)
    assert w[0, 0] == 0 and w[1, 1] == 0
    assert w[0, 1] == pytest.approx(c / (a + lam))  # -(-c) / (a + λ)
    assert w[1, 0] == pytest.approx(c / (b + lam))


def test_ease_weights_solve_the_ridge_regression():
    # EASE's B minimises ||X - XB||² + λ||B||² with diag(B) = 0: for each column j the
    # off-diagonal weights are the ridge solution regressing X_j on the other columns.
    rng = np.random.default_rng(0)
    x = (rng.random((40, 5)) < 0.4).astype(np.float64)
    lam = 3.0
    w = emb.ease_weights((x.T @ x).astype(np.float32), lam)
    for j in range(5):
        others = [i for i in range(5) if i != j]
        xo = x[:, others]
        ridge = np.linalg.solve(xo.T @ xo + lam * np.eye(4), xo.T @ x[:, j])
        assert w[others, j] == pytest.approx(ridge, abs=1e-5)


def test_top_k_rows_keeps_the_largest_positive_weights_sorted_and_pads():
    w = np.array([[0.0, 0.5, -1.0, 0.2], [0.1, 0.0, 0.0, 0.0], [-1, -2, 0, -3]], dtype=np.float32)
    cols, vals = emb.top_k_rows(w, 2)
    assert cols.tolist() == [[1, 3], [0, -1], [-1, -1]]
    assert vals.ravel().tolist() == pytest.approx([0.5, 0.2, 0.1, 0.0, 0.0, 0.0])
    assert cols.dtype == np.int32 and vals.dtype == np.float32


def test_to_csr_drops_padding_and_keeps_row_order():
    cols = np.array([[2, 0, -1], [-1, -1, -1], [1, -1, -1]], dtype=np.int32)
    vals = np.array([[0.5, 0.25, 0], [0, 0, 0], [0.75, 0, 0]], dtype=np.float32)
    indptr, c, v = emb.to_csr(cols, vals)
    assert indptr.tolist() == [0, 2, 2, 3] and c.tolist() == [2, 0, 1] and v.tolist() == [0.5, 0.25, 0.75]


def test_ease_neighbours_cap_keeps_the_most_bought_items_and_original_columns():
    # item 1 is rare: with max_items=2 it gets no list and appears in no list
    c = np.array([[5, 1, 3], [1, 1, 0], [3, 0, 4]], dtype=np.float32)
    cols, vals = emb.ease_neighbours(c, lam=1.0, k=2, max_items=2)
    assert cols.shape == (3, 1)  # at most (items in the EASE part - 1) per list
    assert cols[1].tolist() == [-1]
    assert set(cols[[0, 2]].ravel().tolist()) <= {0, 2, -1}
    sub = emb.ease_weights(c[np.ix_([0, 2], [0, 2])], 1.0)
    assert cols[0, 0] == 2 and vals[0, 0] == pytest.approx(sub[0, 1])
    assert cols[2, 0] == 0 and vals[2, 0] == pytest.approx(sub[1, 0])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    # bread buyers also buy butter; a few bread buyers buy jam too; tea is bought alone
    users, items = [], []
    for u in range(30):
        basket = ["bread", "butter"] + (["jam"] if u % 3 == 0 else [])
        if u % 5 == 0:
            basket.append("tea")
        users += [f"u{u}"] * len(basket)
        items += basket
    for u in range(30, 50):
        users += [f"u{u}"] * 2
        items += ["tea", "milk"]
    m = train(Interactions.from_records(users, items), TrainingConfig(dim=4, min_count=1, ease_lambda=1.0),
              manifest={"version": "r1"})
    folder = tmp_path_factory.mktemp("model")
    m.save(folder)
    return m, folder


def test_rerank_scores_are_the_sparse_product_of_history_and_weights(model):
    m, _ = model
    rec = Recommender(m)
    rows = np.array([m.row("bread"), m.row("tea")])
    x = np.array([1.0, 0.5], dtype=np.float32)
    items, scores = rec.rerank_scores(rows, x)
    dense = np.zeros(len(m.item_ids))
    for r, xi in zip(rows, x):
        lo, hi = m.rerank_indptr[r], m.rerank_indptr[r + 1]
        assert hi > lo
        for j, wj in zip(m.rerank_items[lo:hi], m.rerank_weights[lo:hi]):
            dense[j] += xi * wj
    assert dict(zip(items.tolist(), scores.tolist())) == pytest.approx(
        {j: dense[j] for j in np.flatnonzero(dense).tolist()})


def test_for_customer_new_items_come_from_the_rerank_list(model):
    m, _ = model
    rec = Recommender(m)
    out = rec.for_customer(CustomerHistory(purchased={"bread": 1.0}), k=1, exclude_purchased=True)
    assert m.item_ids[out[0].row] == "butter" and out[0].reason == "because_you_bought"


def test_saved_model_memory_maps_the_rerank_list(model):
    m, folder = model
    loaded = TrainedModel.load(folder)
    assert isinstance(loaded.rerank_items, np.memmap)
    assert np.array_equal(loaded.rerank_indptr, m.rerank_indptr)
    assert np.array_equal(loaded.rerank_items, m.rerank_items)
    assert np.array_equal(loaded.rerank_weights, m.rerank_weights)
    assert "rerank_items.npy" in loaded.manifest["files"]
    hist = CustomerHistory(purchased={"bread": 1.0, "tea": 0.3}, viewed={"milk": 0.5})
    assert Recommender(loaded).for_customer(hist, k=4) == Recommender(m).for_customer(hist, k=4)


def test_a_model_from_before_the_rerank_list_still_loads_and_answers(model, tmp_path):
    _, folder = model
    old = tmp_path / "old"
    old.mkdir()
    for name in ("index.ann", "items.json"):
        (old / name).write_bytes((folder / name).read_bytes())
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = ["index.ann", "items.json", "manifest.json"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    loaded = validate(old)
    assert len(loaded.rerank_items) == 0 and loaded.rerank_indptr.shape == (len(loaded.item_ids) + 1,)
    out = Recommender(loaded).for_customer(CustomerHistory(purchased={"bread": 1.0}), k=2, exclude_purchased=True)
    assert len(out) == 2 and loaded.row("bread") not in [r.row for r in out]


def test_a_rerank_list_naming_items_outside_the_index_is_refused(model, tmp_path):
    _, folder = model
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in folder.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    cols = np.load(bad / "rerank_items.npy")
    good = cols.copy()
    cols[0] = 99
    np.save(bad / "rerank_items.npy", cols)
    with pytest.raises(ModelError, match="outside the index"):
        validate(bad)
    np.save(bad / "rerank_items.npy", good[:-1])
    with pytest.raises(ModelError, match="does not match"):
        validate(bad)
    (bad / "rerank_weights.npy").unlink()
    with pytest.raises(ModelError, match="lacks rerank_weights.npy"):
        validate(bad)


def _reference_also_bought(rec, product_id, k, banned):
    """The previous implementation: vector out of the index, query by vector, sort by score."""
    m = rec.model
    row = m.row(product_id)
    banned = set(banned) | {row}
    v = np.asarray(m.index.get_item_vector(row), dtype=np.float32)
    ids, sims = annoy_index.neighbours(m.index, v, k * 4 + len(banned) + 1, rec.search_k)
    scores = {i: s for i, s in zip(ids, sims) if i != row and s > 0}
    ranked = sorted((r for r in scores if r not in banned and m.available(r)), key=lambda r: (-scores[r], r))[:k]
    out = [Recommendation(r, float(scores[r]), "also_bought") for r in ranked]
    if len(out) < k:
        out += rec.popular(k - len(out), banned | set(ranked))
    return out


def test_also_bought_fast_path_gives_the_same_answers_as_the_vector_query(tmp_path):
    rng = np.random.default_rng(5)
    n = 600
    vectors = normalise_rows(rng.standard_normal((n, 8)).astype(np.float32))
    available = [i % 7 != 3 for i in range(n)]
    m = TrainedModel([f"p{i}" for i in range(n)], vectors, rng.integers(1, 100, n).astype(float),
                     [None] * n, available, {"version": "fast"})
    m.save(tmp_path)
    loaded = TrainedModel.load(tmp_path)
    rec = Recommender(loaded)
    for i in range(0, n, 7):
        exclude = [f"p{(i * 13) % n}", f"p{(i + 1) % n}"] if i % 2 else []
        got = rec.also_bought(f"p{i}", k=6, exclude=exclude)
        want = _reference_also_bought(rec, f"p{i}", 6, {loaded.row(p) for p in exclude})
        assert [(r.row, r.reason) for r in got] == [(r.row, r.reason) for r in want]
        assert [r.score for r in got] == pytest.approx([r.score for r in want], abs=1e-6)


def test_recommender_constants_are_computed_once_per_model(model):
    m, _ = model
    a, b = Recommender(m), Recommender(m)
    assert a._pop_order is b._pop_order
    assert m.item_ids[int(a._pop_order[0])] in ("bread", "butter")  # 30 buyers each


def test_model_cache_freezes_the_loaded_model_out_of_the_collector(model, monkeypatch):
    from polku.recommend.model_cache import ModelCache

    _, folder = model
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))

    class Store:
        def current(self, if_none_match=None):
            from polku.recommend.model_store import Pointer
            return Pointer("r1", {}, "etag")

        def download(self, version, root, files=None):
            return folder

    cache = ModelCache(Store(), check_seconds=3600)
    assert cache.get().version == "r1" and frozen == [True]
    cache.get()
    assert frozen == [True]  # not again for the same model
