"""A trained recommendation model: what the recommend function needs at query time.

Files in one model folder (the same layout locally and under ``models/<version>/`` in S3):

- ``index.ann``       the Annoy index (angular) over the item embeddings, memory-mapped
- ``embeddings.npy``  the L2-normalised item embeddings (float32), memory-mapped
- ``items.json``      item id per row, popularity, and catalogue content (name, price, ...)
- ``manifest.json``   version, dimensions, metric, item count, training time, evaluation figures
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polku.recommend import annoy_index

FILES = ("index.ann", "embeddings.npy", "items.json", "manifest.json")
CONTENT_FIELDS = ("name", "price", "image_url", "url", "category", "available")


class ModelError(ValueError):
    """A model folder is incomplete or inconsistent."""


@dataclass
class TrainedModel:
    item_ids: list[str]
    embeddings: np.ndarray  # (n_items, dim) unit rows
    popularity: np.ndarray  # (n_items,) interaction counts
    content: list[dict] = field(default_factory=list)  # catalogue content per row
    manifest: dict = field(default_factory=dict)
    index: object = None  # AnnoyIndex
    _row: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self._row:
            self._row = {pid: i for i, pid in enumerate(self.item_ids)}
        if not self.content:
            self.content = [{} for _ in self.item_ids]

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    def row(self, product_id: str) -> int | None:
        return self._row.get(str(product_id))

    def category(self, row: int) -> str | None:
        return self.content[row].get("category")

    def available(self, row: int) -> bool:
        return self.content[row].get("available", True) is not False

    def save(self, folder: str | Path, n_trees: int = 50) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "embeddings.npy", self.embeddings.astype(np.float32))
        self.index = annoy_index.build(self.embeddings, folder / "index.ann", n_trees=n_trees)
        (folder / "items.json").write_text(json.dumps(
            {"item_ids": self.item_ids, "popularity": self.popularity.tolist(), "content": self.content}))
        manifest = dict(self.manifest, dimensions=self.dim, metric=annoy_index.METRIC,
                        item_count=len(self.item_ids), files=list(FILES))
        self.manifest = manifest
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: str | Path) -> "TrainedModel":
        folder = Path(folder)
        missing = [f for f in FILES if not (folder / f).is_file()]
        if missing:
            raise ModelError(f"model folder {folder} lacks {', '.join(missing)}")
        manifest = json.loads((folder / "manifest.json").read_text())
        items = json.loads((folder / "items.json").read_text())
        emb = np.load(folder / "embeddings.npy", mmap_mode="r")
        n, dim = emb.shape
        if len(items["item_ids"]) != n or manifest.get("item_count") != n or manifest.get("dimensions") != dim:
            raise ModelError(f"model folder {folder}: manifest, items and embeddings disagree on size")
        index = annoy_index.load(folder / "index.ann", dim)
        if index.get_n_items() != n:
            raise ModelError(f"model folder {folder}: index has {index.get_n_items()} items, expected {n}")
        return cls(items["item_ids"], emb, np.asarray(items["popularity"], dtype=np.float64),
                   items.get("content") or [], manifest, index)
