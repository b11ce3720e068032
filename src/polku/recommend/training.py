"""Training: interactions -> item embeddings -> a ``TrainedModel`` (pure; the S3 part is
``model_store``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polku.recommend import embeddings as emb
from polku.recommend.interactions import Interactions
from polku.recommend.trained_model import TrainedModel


@dataclass(frozen=True)
class TrainingConfig:
    dim: int = 64
    min_count: int = 5  # items seen fewer times are left out of the index (too little evidence)
    max_items: int = 20000  # the co-occurrence matrix is items²: keep the most popular
    seed: int = 0
    # for_customer's rerank list: sparsified EASE (see embeddings.ease_neighbours)
    ease_lambda: float = 400.0  # chosen on a validation split (docs/recommendations.md)
    rerank_neighbours: int = 100  # strongest weights kept per item
    ease_max_items: int = 8000  # the EASE inverse is O(n³) time, 3 n² floats: above this, the most bought items only


class TrainingError(ValueError):
    """Training cannot produce a model (too little data)."""


def vocabulary(inter: Interactions, config: TrainingConfig) -> np.ndarray:
    """Item indices that enter the model: seen ``min_count`` times, at most ``max_items``."""
    counts = inter.item_counts()
    items = np.where(counts >= config.min_count)[0]
    if len(items) < 2:
        items = np.where(counts > 0)[0]
    if len(items) > config.max_items:
        items = items[np.argsort(-counts[items], kind="stable")[: config.max_items]]
    return np.sort(items)


def train(inter: Interactions, config: TrainingConfig = TrainingConfig(), catalog: dict[str, dict] | None = None,
          manifest: dict | None = None) -> TrainedModel:
    if len(inter) == 0:
        raise TrainingError("no interactions to train on")
    items = vocabulary(inter, config)
    if len(items) < 2:
        raise TrainingError(f"only {len(items)} distinct item(s) in the interactions; need at least 2")
    c = emb.cooccurrence(inter, items)
    rerank_indptr, rerank_items, rerank_weights = emb.to_csr(*emb.ease_neighbours(
        c, config.ease_lambda, config.rerank_neighbours, config.ease_max_items))
    vectors = emb.item_embeddings(inter, items, dim=config.dim, seed=config.seed, c=c)
    del c
    counts = inter.item_counts()[items]
    ids = [inter.item_ids[i] for i in items]
    catalog = catalog or {}
    categories = [catalog.get(p, {}).get("category") for p in ids]
    availability = [catalog.get(p, {}).get("available", True) is not False for p in ids]
    meta = {"method": "cosine co-occurrence + truncated eigendecomposition (Annoy); sparsified EASE rerank",
            "dim": config.dim, "min_count": config.min_count, "interactions": int(len(inter)),
            "users": int(inter.n_users), "ease_lambda": config.ease_lambda,
            "rerank_neighbours": int(np.diff(rerank_indptr).max(initial=0)),
            "ease_items": int(min(len(items), config.ease_max_items))}
    return TrainedModel(ids, vectors, counts, categories, availability, dict(meta, **(manifest or {})),
                        rerank_indptr=rerank_indptr, rerank_items=rerank_items, rerank_weights=rerank_weights)
