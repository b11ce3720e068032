"""Honest offline evaluation: hold out each user's last basket (or last n interactions), train
on the rest, and compare Polku with baselines in the same run on the same split.

Metrics per user (averaged over users with a non-empty held-out set):
- HR@K: 1 if any of the top K is held out;
- Recall@K: hits / min(|held out|, K);
- NDCG@K: DCG of the hits / ideal DCG for min(|held out|, K) hits;
- coverage: distinct recommended items / items that could be recommended.

With ``exclude_seen`` every model leaves out items the user already had in training, and the
held-out set keeps only new items (users with none are skipped): "new items only".
Candidates are the items of the training vocabulary (seen ``min_count`` times); held-out
items outside it still count in the denominators, for every model alike.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from polku.recommend import annoy_index
from polku.recommend import embeddings as emb
from polku.recommend.interactions import Interactions, recency_weights
from polku.recommend.strategies import Blend, CustomerHistory, Recommender
from polku.recommend.training import TrainingConfig, train, vocabulary

PROTOCOLS = ("last-basket", "last-n")
EASE_LAMBDA = 100.0
EASE_MAX_ITEMS = 8000  # EASE inverts an items² matrix: beyond this, the most popular items only


@dataclass
class Split:
    train: Interactions
    truth: dict[int, set[int]]  # user -> held-out item indices
    seen: dict[int, set[int]] = field(default_factory=dict)


def split(inter: Interactions, protocol: str = "last-basket", n: int = 10) -> Split:
    if protocol == "last-basket":
        # the basket with the latest time per user
        b_time = np.full(int(inter.basket.max()) + 1, -np.inf)
        np.maximum.at(b_time, inter.basket, inter.time)
        last_time = np.full(inter.n_users, -np.inf)
        np.maximum.at(last_time, inter.user, b_time[inter.basket])
        # ties on time: the basket seen last in the file
        last_basket = np.full(inter.n_users, -1, dtype=np.int64)
        is_last_time = b_time[inter.basket] == last_time[inter.user]
        last_basket[inter.user[is_last_time]] = inter.basket[is_last_time]
        test = inter.basket == last_basket[inter.user]
        n_baskets = np.zeros(inter.n_users, dtype=np.int64)
        seen_b = {}
        for u, b in zip(inter.user.tolist(), inter.basket.tolist()):
            seen_b.setdefault(u, set()).add(b)
        for u, bs in seen_b.items():
            n_baskets[u] = len(bs)
        test &= n_baskets[inter.user] > 1  # users with a single basket have nothing to learn from
    elif protocol == "last-n":
        order = np.lexsort((np.arange(len(inter)), inter.time, inter.user))
        users_sorted = inter.user[order]
        counts = np.bincount(inter.user, minlength=inter.n_users)
        ends = np.cumsum(counts)
        pos_from_end = ends[users_sorted] - 1 - (np.arange(len(order)))
        test = np.zeros(len(inter), dtype=bool)
        test[order] = (pos_from_end < n) & (counts[users_sorted] > n)
    else:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
    tr = inter.subset(~test)
    truth: dict[int, set[int]] = {}
    for u, i in zip(inter.user[test].tolist(), inter.item[test].tolist()):
        truth.setdefault(u, set()).add(i)
    seen: dict[int, set[int]] = {}
    for u, i in zip(tr.user.tolist(), tr.item.tolist()):
        seen.setdefault(u, set()).add(i)
    return Split(tr, truth, seen)


def metrics(recommended: dict[int, list[int]], truth: dict[int, set[int]], k: int, n_candidates: int) -> dict:
    hr = rec = ndcg = 0.0
    users = 0
    shown: set[int] = set()
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    for u, held in truth.items():
        if not held:
            continue
        users += 1
        top = recommended.get(u, [])[:k]
        shown.update(top)
        hits = [1.0 if i in held else 0.0 for i in top]
        n_ideal = min(len(held), k)
        hr += 1.0 if any(hits) else 0.0
        rec += sum(hits) / n_ideal
        ndcg += float(np.dot(hits, discounts[: len(hits)])) / float(discounts[:n_ideal].sum())
    users = users or 1
    return {f"hr@{k}": hr / users, f"recall@{k}": rec / users, f"ndcg@{k}": ndcg / users,
            "coverage": len(shown) / max(n_candidates, 1)}


def _top_k_dense(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    return np.take_along_axis(top, order, 1)


class _Dense:
    """Baselines that score every candidate item for a user from the user's 0/1 history row."""

    def __init__(self, sp: Split, vocab: np.ndarray, users: list[int]):
        self.vocab = vocab
        self.users = users
        pos = np.full(sp.train.n_items, -1, dtype=np.int64)
        pos[vocab] = np.arange(len(vocab))
        self.pos = pos
        upos = np.full(sp.train.n_users, -1, dtype=np.int64)
        upos[users] = np.arange(len(users))
        t = sp.train
        keep = (pos[t.item] >= 0) & (upos[t.user] >= 0)
        self.x = np.zeros((len(users), len(vocab)), dtype=np.float32)
        np.add.at(self.x, (upos[t.user[keep]], pos[t.item[keep]]), 1.0)
        self.recency = np.zeros_like(self.x)
        w = recency_weights(t)
        np.add.at(self.recency, (upos[t.user[keep]], pos[t.item[keep]]), w[keep])
        self.xb = (self.x > 0).astype(np.float32)
        counts = t.item_counts()[vocab]
        self.pop = counts / max(counts.max(), 1.0)

    def top(self, scores: np.ndarray, k: int, exclude_seen: bool) -> dict[int, list[int]]:
        if exclude_seen:
            scores = np.where(self.x > 0, -np.inf, scores)
        top = _top_k_dense(scores, k)
        return {u: self.vocab[top[j]].tolist() for j, u in enumerate(self.users)}


def evaluate(inter: Interactions, protocol: str = "last-basket", k: int = 10, n: int = 10,
             exclude_seen: bool = False, config: TrainingConfig = TrainingConfig(), blend: Blend = Blend(),
             models: tuple[str, ...] | None = None, latency_queries: int = 1000,
             max_users: int | None = None, seed: int = 0) -> dict:
    """Run every model on one split. Returns {"results": [per-model dict], "index": {...}, "split": {...}}."""
    sp = split(inter, protocol, n)
    truth = sp.truth
    if exclude_seen:
        truth = {u: {i for i in held if i not in sp.seen.get(u, ())} for u, held in truth.items()}
    truth = {u: h for u, h in truth.items() if h}
    users = sorted(truth)
    if max_users and len(users) > max_users:  # a fixed random sample keeps big files tractable
        users = sorted(np.random.default_rng(seed).choice(users, size=max_users, replace=False).tolist())
        truth = {u: truth[u] for u in users}
    vocab = vocabulary(sp.train, config)
    wanted = models or ("polku", "popularity", "own_history+popularity", "item_knn_cosine", "ease")
    dense = _Dense(sp, vocab, users)
    results = []
    timings = {}

    def add(name: str, recommended: dict[int, list[int]], seconds: float):
        results.append({"model": name, **metrics(recommended, truth, k, len(vocab)), "users": len(users),
                        "seconds": round(seconds, 3)})

    # ---- Polku: the production path (trained model + Annoy + for_customer)
    t0 = time.perf_counter()
    model = train(sp.train, config)
    index_report = {}
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        timings["train"] = time.perf_counter() - t0
        rec = Recommender(model, blend)
        if "polku" in wanted:
            t0 = time.perf_counter()
            histories = _histories(sp.train)
            recommended = {}
            for u in users:
                out = rec.for_customer(histories.get(u, CustomerHistory()), k, exclude_purchased=exclude_seen)
                recommended[u] = [_item_index(sp.train, model.item_ids[r.row]) for r in out]
            add("polku", recommended, time.perf_counter() - t0 + timings["train"])
        index_report = index_quality(model, [_taste(model, histories_u) for histories_u in
                                             (_histories(sp.train).get(u) for u in users[:latency_queries]) if histories_u],
                                     k)
    s = dense
    if "popularity" in wanted:
        t0 = time.perf_counter()
        add("popularity", s.top(np.tile(s.pop, (len(users), 1)), k, exclude_seen), time.perf_counter() - t0)
    if "own_history+popularity" in wanted:
        t0 = time.perf_counter()
        add("own_history+popularity", s.top(s.x + 1e-3 * s.pop[None, :], k, exclude_seen), time.perf_counter() - t0)
    if "item_knn_cosine" in wanted or "ease" in wanted:
        c = emb.cooccurrence(sp.train, vocab)
    if "item_knn_cosine" in wanted:
        t0 = time.perf_counter()
        sim = emb.cosine_similarity(c)
        add("item_knn_cosine", s.top(s.xb @ sim + 1e-6 * s.pop[None, :], k, exclude_seen), time.perf_counter() - t0)
        del sim
    if "ease" in wanted:
        t0 = time.perf_counter()
        keep = emb.most_bought(c, EASE_MAX_ITEMS)
        b = emb.ease_weights(c[np.ix_(keep, keep)], EASE_LAMBDA, dtype=np.float64)
        scores = np.full((len(users), len(vocab)), -1e9, dtype=np.float32)
        scores[:, keep] = s.xb[:, keep] @ b
        add("ease", s.top(scores + 1e-6 * s.pop[None, :], k, exclude_seen), time.perf_counter() - t0)
    return {
        "results": results,
        "index": index_report,
        "split": {"protocol": protocol, "k": k, "n": n if protocol == "last-n" else None,
                  "exclude_seen": exclude_seen, "users": len(users), "candidates": int(len(vocab)),
                  "train_interactions": int(len(sp.train)), "train_seconds": round(timings.get("train", 0.0), 3)},
    }


def _item_index(inter: Interactions, item_id: str) -> int:
    cache = getattr(inter, "_item_pos", None)
    if cache is None:
        cache = {v: i for i, v in enumerate(inter.item_ids)}
        inter._item_pos = cache
    return cache[item_id]


def _histories(inter: Interactions) -> dict[int, CustomerHistory]:
    cached = getattr(inter, "_histories", None)
    if cached is not None:
        return cached
    w = recency_weights(inter)
    out: dict[int, CustomerHistory] = {}
    for u, i, wt in zip(inter.user.tolist(), inter.item.tolist(), w.tolist()):
        h = out.setdefault(u, CustomerHistory())
        pid = inter.item_ids[i]
        h.purchased[pid] = h.purchased.get(pid, 0.0) + wt
    inter._histories = out
    return out


def _taste(model, history: CustomerHistory) -> np.ndarray:
    v = np.zeros(model.dim, dtype=np.float32)
    for p, w in history.purchased.items():
        r = model.row(p)
        if r is not None:
            v += w * np.asarray(model.embeddings[r])
    return v


def index_quality(model, queries: list[np.ndarray], k: int = 10, item_queries: int = 1000, seed: int = 0) -> dict:
    """Annoy recall@k against exact cosine search on the same embeddings (item queries; customers'
    taste vectors reported apart), and query latency."""
    rng = np.random.default_rng(seed)
    n = len(model.item_ids)
    emb_arr = np.asarray(model.embeddings)
    groups = {"taste": [q for q in queries if np.any(q)],
              "item": [emb_arr[i] for i in rng.choice(n, size=min(item_queries, n), replace=False)]}
    recalls: dict[str, list[float]] = {"taste": [], "item": []}
    latencies = []
    for group, vectors in groups.items():
        for v in vectors:
            t0 = time.perf_counter()
            ids, _ = annoy_index.neighbours(model.index, v, k, model.search_k)
            latencies.append(time.perf_counter() - t0)
            exact = annoy_index.exact_neighbours(emb_arr, v, k)
            recalls[group].append(len(set(ids) & set(exact.tolist())) / max(len(exact), 1))
    if not latencies:
        return {}
    lat = np.asarray(latencies) * 1000
    out = {f"annoy_recall@{k}": float(np.mean(recalls["item"] or recalls["taste"])),
           "query_ms_p50": float(np.percentile(lat, 50)), "query_ms_p99": float(np.percentile(lat, 99)),
           "queries": len(latencies), "items": n, "search_k": model.search_k}
    if recalls["taste"]:
        out[f"annoy_recall@{k}_taste"] = float(np.mean(recalls["taste"]))
    return out
