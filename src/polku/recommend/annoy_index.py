"""The Annoy index over item embeddings (angular metric on L2-normalised vectors).

Built once at training, saved to a file, and memory-mapped by the recommend function
(``AnnoyIndex.load`` mmaps the file, so a 100k-item index loads in milliseconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from annoy import AnnoyIndex

METRIC = "angular"


def build(embeddings: np.ndarray, path: str | Path, n_trees: int = 50, seed: int = 42) -> AnnoyIndex:
    n, dim = embeddings.shape
    index = AnnoyIndex(dim, METRIC)
    index.set_seed(seed)
    for i in range(n):
        index.add_item(i, embeddings[i])
    index.build(n_trees, n_jobs=1)
    index.save(str(path))
    return index


def load(path: str | Path, dim: int) -> AnnoyIndex:
    index = AnnoyIndex(dim, METRIC)
    index.load(str(path))  # memory-mapped
    return index


def cosine_from_angular(distance: float) -> float:
    """Annoy's angular distance is sqrt(2 - 2 cos)."""
    return 1.0 - distance * distance / 2.0


def neighbours(index: AnnoyIndex, vector: np.ndarray, n: int, search_k: int = -1) -> tuple[list[int], list[float]]:
    """The ``n`` nearest items to ``vector`` and their cosine similarity."""
    ids, dist = index.get_nns_by_vector(vector, n, search_k=search_k, include_distances=True)
    return ids, [cosine_from_angular(d) for d in dist]


def exact_neighbours(embeddings: np.ndarray, vector: np.ndarray, n: int) -> np.ndarray:
    """Exact top-n by cosine (embeddings are unit rows), for measuring the index's recall."""
    v = vector / (np.linalg.norm(vector) or 1.0)
    scores = embeddings @ v
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.argsort(-scores[top])]


SEARCH_K_LADDER = (-1, 500, 750, 1000, 1250, 1500, 1750, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 8000, 12000,
                   16000, 24000, 32000)


def tune_search_k(index: AnnoyIndex, embeddings: np.ndarray, k: int = 10, target: float = 0.99,
                  queries: int = 500, seed: int = 0) -> tuple[int, float]:
    """The smallest ``search_k`` (nodes inspected per query) whose recall@k against exact search
    reaches ``target`` on sample item queries (what also_bought/similar ask). Returns
    (search_k, recall reached). Customers' taste vectors take 100+ candidates, so their top-10
    recall matters less; the evaluation reports it separately."""
    n = len(embeddings)
    if n <= k:
        return -1, 1.0
    rng = np.random.default_rng(seed)
    vectors = [embeddings[i] for i in rng.choice(n, size=min(queries, n), replace=False)]
    exact = [set(exact_neighbours(embeddings, v, k).tolist()) for v in vectors]
    recall = 0.0
    for search_k in SEARCH_K_LADDER:
        hits = [len(set(index.get_nns_by_vector(v, k, search_k=search_k)) & e) / len(e) for v, e in zip(vectors, exact)]
        recall = float(np.mean(hits))
        if recall >= target or search_k >= n * 4:
            return search_k, recall
    return SEARCH_K_LADDER[-1], recall
