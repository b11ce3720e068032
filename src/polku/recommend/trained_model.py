"""A trained recommendation model: what the recommend function needs at query time.

Files in one model folder (the same layout locally and under ``models/<version>/`` in S3):

- ``index.ann``      the Annoy index (angular) over the L2-normalised item embeddings; it also
                     holds the vectors, so serving needs no separate embeddings file
- ``items.json``     columns per index row: item id, popularity, category, availability
- ``rerank_indptr.npy``, ``rerank_items.npy``, ``rerank_weights.npy``  the rerank list in CSR
                     form (int64 n_items+1 / int32 / float32): item i's strongest sparsified-EASE
                     weights (the items it pushes up for a customer who has it) are
                     items/weights[indptr[i]:indptr[i+1]], memory-mapped; ``for_customer`` scores
                     with them. Items outside the EASE part have empty rows (no bytes).
- ``manifest.json``  version, dimensions, metric, item count, trees, search_k, training time,
                     evaluation figures (written last: a folder with a manifest is complete)

Catalogue content (name, price, image, URL) is not copied into the model: the recommend
function reads it fresh from the catalogue for the few products it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polku.recommend import annoy_index

RERANK_FILES = ("rerank_indptr.npy", "rerank_items.npy", "rerank_weights.npy")
FILES = ("index.ann", "items.json", *RERANK_FILES, "manifest.json")  # manifest last
REQUIRED = ("index.ann", "items.json", "manifest.json")  # models from before the rerank list lack the .npy files
N_TREES_SMALL, N_TREES_LARGE, LARGE = 10, 40, 20000  # more trees for big catalogues: same recall at lower search_k (40: as fast as 50 at 100k, 13 MB smaller)
RECALL_TARGET = 0.985  # tuned on a sample: a margin above the 0.98 we promise


class ModelError(ValueError):
    """A model folder is incomplete or inconsistent."""


class IndexVectors:
    """Row access to the vectors stored in a (memory-mapped) Annoy index."""

    def __init__(self, index, n: int, dim: int):
        self.index, self.shape = index, (n, dim)

    def __getitem__(self, row: int) -> np.ndarray:
        return np.asarray(self.index.get_item_vector(int(row)), dtype=np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        out = np.vstack([self[i] for i in range(self.shape[0])]) if self.shape[0] else np.zeros(self.shape, np.float32)
        return out.astype(dtype) if dtype is not None else out


@dataclass
class TrainedModel:
    item_ids: list[str]
    embeddings: object  # (n_items, dim) unit rows: a numpy array after training, IndexVectors after loading
    popularity: np.ndarray  # (n_items,) interaction counts
    categories: list[str | None] = field(default_factory=list)
    availability: list[bool] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    index: object = None  # AnnoyIndex
    rerank_indptr: object = None  # (n_items + 1,) int64 row starts of the rerank list (CSR)
    rerank_items: object = None  # (nnz,) int32 column (item row) per entry (numpy or memory map)
    rerank_weights: object = None  # (nnz,) float32 weight per entry
    _row: dict[str, int] = field(default_factory=dict, repr=False)
    serving_cache: dict = field(default_factory=dict, repr=False, compare=False)  # per-model constants of the Recommender

    def __post_init__(self):
        if not self._row:
            self._row = {pid: i for i, pid in enumerate(self.item_ids)}
        if not self.categories:
            self.categories = [None] * len(self.item_ids)
        if not self.availability:
            self.availability = [True] * len(self.item_ids)
        if self.rerank_indptr is None or self.rerank_items is None or self.rerank_weights is None:
            self.rerank_indptr = np.zeros(len(self.item_ids) + 1, dtype=np.int64)
            self.rerank_items = np.zeros(0, dtype=np.int32)
            self.rerank_weights = np.zeros(0, dtype=np.float32)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    @property
    def search_k(self) -> int:
        return int(self.manifest.get("search_k", -1))

    @property
    def files(self) -> tuple[str, ...]:
        """The files of this model's folder (older models have no rerank list)."""
        listed = self.manifest.get("files")
        return tuple(listed) if listed else REQUIRED

    def row(self, product_id: str) -> int | None:
        return self._row.get(str(product_id))

    def category(self, row: int) -> str | None:
        return self.categories[row]

    def available(self, row: int) -> bool:
        return self.availability[row] is not False

    def save(self, folder: str | Path, n_trees: int | None = None) -> None:
        folder = Path(folder)
        if n_trees is None:
            n_trees = N_TREES_SMALL if len(self.item_ids) <= LARGE else N_TREES_LARGE
        folder.mkdir(parents=True, exist_ok=True)
        emb = np.asarray(self.embeddings, dtype=np.float32)
        self.index = annoy_index.build(emb, folder / "index.ann", n_trees=n_trees)
        search_k, recall = annoy_index.tune_search_k(self.index, emb, k=10, target=RECALL_TARGET)
        np.save(folder / "rerank_indptr.npy", np.ascontiguousarray(self.rerank_indptr, dtype=np.int64))
        np.save(folder / "rerank_items.npy", np.ascontiguousarray(self.rerank_items, dtype=np.int32))
        np.save(folder / "rerank_weights.npy", np.ascontiguousarray(self.rerank_weights, dtype=np.float32))
        (folder / "items.json").write_text(json.dumps(
            {"item_ids": self.item_ids, "popularity": np.asarray(self.popularity).tolist(),
             "category": self.categories, "available": self.availability}))
        self.manifest = dict(self.manifest, dimensions=int(emb.shape[1]), metric=annoy_index.METRIC,
                             item_count=len(self.item_ids), n_trees=n_trees, search_k=search_k,
                             index_recall_at_10=round(recall, 4), files=list(FILES),
                             rerank_neighbours=int(np.diff(self.rerank_indptr).max(initial=0)),
                             rerank_entries=int(len(self.rerank_items)))
        (folder / "manifest.json").write_text(json.dumps(self.manifest, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: str | Path) -> "TrainedModel":
        folder = Path(folder)
        missing = [f for f in REQUIRED if not (folder / f).is_file()]
        if missing:
            raise ModelError(f"model folder {folder} lacks {', '.join(missing)}")
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            items = json.loads((folder / "items.json").read_text())
            n, dim = int(manifest["item_count"]), int(manifest["dimensions"])
            files = [str(f) for f in manifest.get("files") or REQUIRED]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model folder {folder}: unreadable manifest or items ({exc})") from None
        missing = [f for f in files if not (folder / f).is_file()]
        if missing:
            raise ModelError(f"model folder {folder} lacks {', '.join(missing)}")
        rerank = (None, None, None)
        if all(f in files for f in RERANK_FILES):
            rerank = _load_rerank(folder, n)
        index = annoy_index.load(folder / "index.ann", dim)
        if index.get_n_items() != n:
            raise ModelError(f"model folder {folder}: index has {index.get_n_items()} items, expected {n}")
        return cls(items["item_ids"], IndexVectors(index, n, dim), np.asarray(items["popularity"], dtype=np.float64),
                   items.get("category") or [], items.get("available") or [], manifest, index, *rerank)


def _load_rerank(folder: Path, n: int):
    """The memory-mapped CSR rerank list, checked against the item count."""
    try:
        indptr, cols, vals = (np.load(folder / f, mmap_mode="r", allow_pickle=False) for f in RERANK_FILES)
    except ValueError as exc:
        raise ModelError(f"model folder {folder}: unreadable rerank list ({exc})") from None
    if (indptr.shape != (n + 1,) or indptr.dtype != np.int64 or cols.dtype != np.int32 or vals.dtype != np.float32
            or cols.ndim != 1 or cols.shape != vals.shape or int(indptr[0]) != 0 or int(indptr[-1]) != len(cols)
            or np.any(np.diff(indptr) < 0)):
        raise ModelError(f"model folder {folder}: rerank list shape (indptr {indptr.shape}, {cols.shape} items, "
                         f"{vals.shape} weights) does not match {n} items")
    if len(cols) and (int(cols.max()) >= n or int(cols.min()) < 0):
        raise ModelError(f"model folder {folder}: rerank list names items outside the index")
    return indptr, cols, vals
