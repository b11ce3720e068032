"""Recommendation strategies over a trained model and one customer's history (pure; no I/O).

Every strategy returns ranked ``Recommendation``s (row, score, reason) after the exclusions
(unavailable products, explicitly excluded ids, purchased products when asked) and fills up
with popular products when it has too few (new customers, new or unknown products).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from polku.recommend import annoy_index
from polku.recommend.trained_model import TrainedModel

STRATEGIES = ("also_bought", "for_customer", "similar", "category_favourites", "viewed_not_bought")


@dataclass
class CustomerHistory:
    """What one customer did, as product id -> recency-weighted strength (larger = more/recent)."""

    purchased: dict[str, float] = field(default_factory=dict)
    viewed: dict[str, float] = field(default_factory=dict)  # viewed (or carted) and not bought since


@dataclass(frozen=True)
class Blend:
    """Weights of for_customer's parts, chosen on a validation split of the Instacart sample
    (each shopper's second-to-last basket; the benchmark reports the last one). See docs."""

    repeat: float = 1.0  # the customer's own purchases (buy again)
    viewed: float = 0.6  # viewed and left
    neighbours: float = 0.1  # rerank score (sparsified EASE over the history), scaled to [0, 1]
    annoy: float = 0.02  # cosine of the Annoy neighbours of the customer's taste vector
    popularity: float = 0.02  # tie-break and fallback
    candidates: int = 100  # how many Annoy neighbours (and rerank-list items) to consider
    taste_power: float = 0.5  # taste vector = sum of (relative strength ** power) x item vector
    rerank_power: float = 0.5  # rerank input x_i = (relative strength ** power); 0 = plain 0/1 history


@dataclass(frozen=True)
class Recommendation:
    row: int
    score: float
    reason: str


class StrategyError(ValueError):
    """A strategy was asked with missing or unknown input."""


class Recommender:
    def __init__(self, model: TrainedModel, blend: Blend = Blend(), search_k: int | None = None):
        self.model = model
        self.blend = blend
        self.search_k = model.search_k if search_k is None else search_k  # tuned at training
        # per-model constants, computed once per loaded model (not per request)
        cached = model.serving_cache.get("popularity")
        if cached is None:
            pop = np.asarray(model.popularity, dtype=np.float64)
            pop_norm = pop / pop.max() if len(pop) and pop.max() > 0 else np.zeros(len(pop))
            cached = model.serving_cache["popularity"] = (pop_norm, np.argsort(-pop, kind="stable"))
        self._pop_norm, self._pop_order = cached

    # ------------------------------------------------------------ helpers
    def _allowed(self, row: int, banned: set[int]) -> bool:
        return row not in banned and self.model.available(row)

    def _banned(self, history: CustomerHistory | None, exclude_purchased: bool, exclude) -> set[int]:
        rows = {self.model.row(p) for p in (exclude or ())}
        if exclude_purchased and history:
            rows |= {self.model.row(p) for p in history.purchased}
        rows.discard(None)
        return rows

    def _rank(self, scores: dict[int, float], reasons: dict[int, str], k: int, banned: set[int],
              fill_category: str | None = None) -> list[Recommendation]:
        ranked = sorted((r for r in scores if self._allowed(r, banned)), key=lambda r: (-scores[r], r))[:k]
        out = [Recommendation(r, float(scores[r]), reasons[r]) for r in ranked]
        if len(out) < k:
            out += self.popular(k - len(out), banned | set(ranked), category=fill_category)
        if len(out) < k and fill_category is not None:
            out += self.popular(k - len(out), banned | {r.row for r in out})
        return out

    def _neighbours(self, vector: np.ndarray, n: int) -> tuple[list[int], list[float]]:
        if not np.any(vector):
            return [], []
        return annoy_index.neighbours(self.model.index, vector, n, self.search_k)

    def popular(self, k: int, banned: set[int] = frozenset(), category: str | None = None) -> list[Recommendation]:
        out = []
        for r in self._pop_order:
            r = int(r)
            if len(out) >= k:
                break
            if category is not None and self.model.category(r) != category:
                continue
            if self._allowed(r, banned):
                out.append(Recommendation(r, float(self._pop_norm[r]), "popular"))
        return out

    def _product_row(self, product_id) -> int | None:
        if product_id is None or product_id == "":
            raise StrategyError("product_id is required for this strategy")
        return self.model.row(product_id)

    # ------------------------------------------------------------ strategies
    def also_bought(self, product_id: str, k: int = 4, history: CustomerHistory | None = None,
                    exclude_purchased: bool = False, exclude=()) -> list[Recommendation]:
        """Products bought by the same customers as ``product_id`` (embedding neighbours).

        The hot path: one Annoy call by item row (no vector copied out of the index), then
        a walk down the answer, which Annoy returns sorted by distance (ties by row)."""
        row = self._product_row(product_id)
        banned = self._banned(history, exclude_purchased, exclude) if (exclude or exclude_purchased) else set()
        if row is None:  # a product the model has not seen: popularity
            return self.popular(k, banned)
        banned.add(row)
        ids, dist = self.model.index.get_nns_by_item(row, k * 4 + len(banned) + 1, self.search_k, True)
        available = self.model.availability
        out = []
        for i, d in zip(ids, dist):
            if i in banned or available[i] is False:
                continue
            s = 1.0 - d * d / 2.0  # angular distance -> cosine
            if s <= 0:
                break  # sorted by distance: no positive cosine follows
            out.append(Recommendation(i, s, "also_bought"))
            if len(out) == k:
                return out
        if len(out) < k:
            out += self.popular(k - len(out), banned | {r.row for r in out})
        return out

    def similar(self, product_id: str, k: int = 4, history: CustomerHistory | None = None,
                exclude_purchased: bool = False, exclude=()) -> list[Recommendation]:
        """Alternatives: neighbours in the same category as ``product_id`` (then its category's
        popular products)."""
        row = self._product_row(product_id)
        banned = self._banned(history, exclude_purchased, exclude)
        if row is None:
            return self.popular(k, banned)
        banned.add(row)
        category = self.model.category(row)
        ids, sims = self._neighbours(np.asarray(self.model.embeddings[row]), max(50, k * 10))
        scores = {i: s for i, s in zip(ids, sims) if i != row and (category is None or self.model.category(i) == category)}
        return self._rank(scores, dict.fromkeys(scores, "similar"), k, banned, fill_category=category)

    def for_customer(self, history: CustomerHistory, k: int = 4, exclude_purchased: bool = False,
                     exclude=()) -> list[Recommendation]:
        """Blend of buying again, viewed-and-left, the rerank list's score over the customer's
        history (sparsified EASE: Σ_i x_i B_ij), Annoy neighbours of the customer's taste
        vector, and popularity."""
        b = self.blend
        model = self.model
        banned = self._banned(history, exclude_purchased, exclude)
        scores: dict[int, float] = defaultdict(float)
        reasons: dict[int, str] = {}
        part: dict[int, float] = defaultdict(float)

        def add(row: int, value: float, reason: str):
            scores[row] += value
            if value > part[row] or row not in reasons:
                part[row] = value
                reasons[row] = reason

        taste = np.zeros(model.dim, dtype=np.float32)
        x_rows: list[int] = []
        x_vals: list[float] = []
        for source, weight, reason in ((history.purchased, b.repeat, "buy_again"), (history.viewed, b.viewed, "viewed")):
            rows = [(model.row(p), w) for p, w in source.items()]
            rows = [(r, w) for r, w in rows if r is not None and w > 0]
            if not rows:
                continue
            top = max(w for _, w in rows)
            for r, w in rows:
                add(r, weight * w / top, reason)
                taste += (w / top) ** b.taste_power * np.asarray(model.embeddings[r])
                x_rows.append(r)
                x_vals.append((w / top) ** b.rerank_power * (1.0 if reason == "buy_again" else b.viewed))
        n_candidates = b.candidates + len(banned)
        has_rerank = len(model.rerank_items) > 0
        if has_rerank and x_rows:
            items, values = self.rerank_scores(np.asarray(x_rows), np.asarray(x_vals, dtype=np.float32))
            if len(items):
                if len(items) > n_candidates:
                    top = np.argpartition(-values, n_candidates - 1)[:n_candidates]
                    items, values = items[top], values[top]
                scale = b.neighbours / max(float(values.max()), 1e-12)
                for r, v in zip(items.tolist(), values.tolist()):
                    if v > 0:
                        add(r, scale * v, "because_you_bought")
        annoy_weight = b.annoy if has_rerank else b.neighbours  # models without a rerank list
        ids, sims = self._neighbours(taste, n_candidates)
        for r, s in zip(ids, sims):
            if s > 0:
                add(r, annoy_weight * s, "because_you_bought")
        for r in self._pop_order[: k + len(banned) + len(scores)]:
            add(int(r), b.popularity * self._pop_norm[r], "popular")
        return self._rank(scores, reasons, k, banned)

    def rerank_scores(self, rows: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Σ_i x_i B_ij over the history rows i, for every item j on their rerank lists:
        (items, scores), items unique. Reads only the history's rows of the CSR list."""
        indptr = self.model.rerank_indptr
        starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        # positions of every entry of the selected rows, without a Python loop
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        at = offsets + np.arange(total)
        cols = np.asarray(self.model.rerank_items[at])
        vals = np.asarray(self.model.rerank_weights[at]) * np.repeat(x, lengths)
        items, inverse = np.unique(cols, return_inverse=True)
        return items.astype(np.int64), np.bincount(inverse, weights=vals)

    def viewed_not_bought(self, history: CustomerHistory, k: int = 4, exclude_purchased: bool = True,
                          exclude=()) -> list[Recommendation]:
        """What the customer looked at and left, most recent/strongest first (no fill: an empty
        answer means there is nothing to remind of)."""
        banned = self._banned(history, True, exclude)
        rows = [(self.model.row(p), w) for p, w in history.viewed.items()]
        scored = sorted(((r, w) for r, w in rows if r is not None and self._allowed(r, banned)), key=lambda x: (-x[1], x[0]))
        return [Recommendation(r, float(w), "viewed") for r, w in scored[:k]]

    def category_favourites(self, history: CustomerHistory, k: int = 4, exclude_purchased: bool = False,
                            exclude=()) -> list[Recommendation]:
        """Popular products of the customer's favourite categories (by weighted history)."""
        banned = self._banned(history, exclude_purchased, exclude)
        weight: dict[str, float] = defaultdict(float)
        for source in (history.purchased, history.viewed):
            for p, w in source.items():
                r = self.model.row(p)
                if r is not None and self.model.category(r):
                    weight[self.model.category(r)] += w
        cats = sorted(weight, key=lambda c: (-weight[c], c))
        out: list[Recommendation] = []
        total = sum(weight.values()) or 1.0
        for c in cats:
            if len(out) >= k:
                break
            # share the slots by category weight, at least one each
            n = max(1, round(k * weight[c] / total))
            for rec in self.popular(min(n, k - len(out)), banned | {o.row for o in out}, category=c):
                out.append(Recommendation(rec.row, weight[c] / total + rec.score * 1e-3, f"favourite:{c}"))
        if len(out) < k:
            out += self.popular(k - len(out), banned | {o.row for o in out})
        return out

    def answer(self, strategy: str, k: int = 4, product_id: str | None = None,
               history: CustomerHistory | None = None, exclude_purchased: bool = False,
               exclude=()) -> list[Recommendation]:
        """Dispatch by strategy name."""
        history = history or CustomerHistory()
        if strategy in ("also_bought", "similar"):
            fn = self.also_bought if strategy == "also_bought" else self.similar
            return fn(product_id, k, history, exclude_purchased, exclude)
        if strategy == "for_customer":
            return self.for_customer(history, k, exclude_purchased, exclude)
        if strategy == "category_favourites":
            return self.category_favourites(history, k, exclude_purchased, exclude)
        if strategy == "viewed_not_bought":
            return self.viewed_not_bought(history, k, True, exclude)
        raise StrategyError(f"strategy must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
