"""Item embeddings from co-occurrence: cosine-normalised item-item co-occurrence, factorised by
a truncated (randomised) eigendecomposition.

Why this method (see docs/recommendations.md for the figures): on the Instacart sample it
matched or beat PMI+SVD and PureSVD variants we tried for new-item recommendation, needs
only numpy (no scipy), trains in seconds, and gives one vector per item whose cosine is a
meaningful "bought together" similarity — exactly what an Annoy angular index serves.

Given the user-item matrix X (users x items, 0/1 or weights), C = Xᵀ X counts how often two
items share a customer. S = D^-½ C D^-½ (D = diag(C)) is their cosine similarity; its top-d
eigenpairs S ≈ V Λ Vᵀ give embeddings E = V Λ^½, so E Eᵀ ≈ S. Rows are then L2-normalised for
the angular index; a customer's taste vector is the weighted sum of their items' rows.
"""

from __future__ import annotations

import numpy as np

from polku.recommend.interactions import Interactions


def cooccurrence(inter: Interactions, items: np.ndarray, chunk_users: int = 2048) -> np.ndarray:
    """C = Xᵀ X over the given item indices (0/1 per user and item), accumulated in user chunks
    so memory stays items² (not users x items)."""
    pos = np.full(inter.n_items, -1, dtype=np.int64)
    pos[items] = np.arange(len(items))
    keep = pos[inter.item] >= 0
    users, cols = inter.user[keep], pos[inter.item[keep]]
    n = len(items)
    c = np.zeros((n, n), dtype=np.float32)
    for start in range(0, inter.n_users, chunk_users):
        sel = (users >= start) & (users < start + chunk_users)
        x = np.zeros((min(chunk_users, inter.n_users - start), n), dtype=np.float32)
        x[users[sel] - start, cols[sel]] = 1.0
        c += x.T @ x
    return c


def cosine_similarity(c: np.ndarray) -> np.ndarray:
    """Cosine of item co-occurrence, zero diagonal."""
    d = np.sqrt(np.maximum(np.diag(c), 1e-12)).astype(np.float32)
    s = c / d[:, None] / d[None, :]
    np.fill_diagonal(s, 0.0)
    return s


def top_eigen(s: np.ndarray, dim: int, oversample: int = 16, iterations: int = 4,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Top ``dim`` eigenpairs (largest eigenvalues) of a symmetric matrix by randomised subspace
    iteration (Halko et al.): cost O(n² (dim + oversample)) instead of O(n³)."""
    n = s.shape[0]
    k = min(n, dim + oversample)
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, k)).astype(np.float32))
    for _ in range(iterations):
        q, _ = np.linalg.qr(s @ q)
    small = q.T @ s @ q
    w, u = np.linalg.eigh(small.astype(np.float64))
    order = np.argsort(-w)[: min(dim, n)]
    return w[order], (q @ u[:, order].astype(np.float32))


def item_embeddings(inter: Interactions, items: np.ndarray, dim: int = 64, seed: int = 0,
                    c: np.ndarray | None = None) -> np.ndarray:
    """L2-normalised embeddings (len(items) x dim, float32) for the given item indices (``c``:
    their co-occurrence matrix, if already computed)."""
    s = cosine_similarity(cooccurrence(inter, items) if c is None else c)
    w, v = top_eigen(s, dim, seed=seed)
    e = v * np.sqrt(np.maximum(w, 0.0)).astype(np.float32)[None, :]
    if e.shape[1] < dim:  # fewer items than dimensions: pad so the index has a fixed width
        e = np.hstack([e, np.zeros((e.shape[0], dim - e.shape[1]), dtype=np.float32)])
    return normalise_rows(e)


def normalise_rows(e: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    return (e / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def ease_weights(c: np.ndarray, lam: float, dtype=np.float32) -> np.ndarray:
    """EASE (Steck 2019) item-item weights from the Gram matrix G = XᵀX (binary X):
    P = (G + λI)⁻¹, B = I - P / diag(P) column-wise, so B_ij = -P_ij / P_jj and B_jj = 0.
    A customer's score for item j is Σ_i x_i B_ij. Dense, O(n³) time; float32 by default
    (G + λI is well conditioned for λ in the hundreds) with peak memory ≈ 3 n² floats."""
    g = np.array(c, dtype=dtype, copy=True)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    del g
    d = np.diag(p).copy()
    p /= -d[None, :]
    np.fill_diagonal(p, 0.0)
    return p.astype(np.float32, copy=False)


def top_k_rows(w: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row the ``k`` largest positive entries: (columns int32, values float32), each row
    sorted by value descending and padded with column -1 / value 0 (a sparse item-item list)."""
    n, m = w.shape
    k = max(0, min(k, m - 1 if m > 1 else 0))
    cols = np.full((n, k), -1, dtype=np.int32)
    vals = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return cols, vals
    for start in range(0, n, 1024):  # in row chunks: argpartition copies its input
        block = w[start:start + 1024]
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        v = np.take_along_axis(block, top, 1)
        order = np.argsort(-v, axis=1, kind="stable")
        top, v = np.take_along_axis(top, order, 1), np.take_along_axis(v, order, 1)
        keep = v > 0
        cols[start:start + len(block)] = np.where(keep, top, -1)
        vals[start:start + len(block)] = np.where(keep, v, 0.0)
    return cols, vals


def most_bought(c: np.ndarray, max_items: int) -> np.ndarray:
    """Rows of the co-occurrence matrix ``c`` that EASE covers, ascending: all of them, or the
    ``max_items`` with the most customers (its diagonal) when there are more."""
    n = c.shape[0]
    if n <= max_items:
        return np.arange(n)
    return np.sort(np.argsort(-np.diag(c), kind="stable")[:max_items])


def ease_neighbours(c: np.ndarray, lam: float, k: int, max_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Sparsified EASE: for each item its ``k`` strongest positive weights B_ij (the items j it
    pushes up), over the ``max_items`` items with the most customers (the inverse is O(n³));
    other items get no list (-1). Columns index the rows of ``c``."""
    n = c.shape[0]
    keep = most_bought(c, max_items)
    b = ease_weights(c[np.ix_(keep, keep)] if len(keep) < n else c, lam)
    cols_sub, vals_sub = top_k_rows(b, k)
    del b
    cols = np.full((n, cols_sub.shape[1]), -1, dtype=np.int32)
    vals = np.zeros((n, cols_sub.shape[1]), dtype=np.float32)
    cols[keep] = np.where(cols_sub >= 0, keep[np.maximum(cols_sub, 0)], -1)
    vals[keep] = vals_sub
    return cols, vals


def to_csr(cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded per-row lists (column -1 = none) -> (indptr int64, columns int32, values float32),
    each row's order kept."""
    keep = cols >= 0
    indptr = np.zeros(len(cols) + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return indptr, cols[keep].astype(np.int32), vals[keep].astype(np.float32)
