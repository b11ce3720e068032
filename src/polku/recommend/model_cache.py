"""The model of a warm recommend container: loaded once into /tmp (memory-mapped), replaced
when the ``current`` pointer moves, checked at most every ``check_seconds``.

If the pointer cannot be read or a new version cannot be loaded, the container keeps answering
with the model it has: a recommend call during a switch never fails because of the switch."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import time
from pathlib import Path

from polku.observability import logger
from polku.recommend.model_store import ModelStore, NotModified
from polku.recommend.trained_model import TrainedModel


class NoModel(RuntimeError):
    """No model has been published yet."""


class ModelCache:
    def __init__(self, store: ModelStore, root: str | Path | None = None, check_seconds: float = 30.0):
        self.store = store
        # one folder per process: a Lambda container has its own /tmp, local runs share one
        self.root = Path(root) if root else Path(f"/tmp/polku-models-{os.getpid()}")
        self.check_seconds = check_seconds
        self.model: TrainedModel | None = None
        self._etag: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> TrainedModel:
        with self._lock:
            if self.model is not None and time.monotonic() - self._checked < self.check_seconds:
                return self.model
            self._checked = time.monotonic()
            try:
                pointer = self.store.current(if_none_match=self._etag if self.model else None)
            except NotModified:
                return self.model
            except Exception:
                if self.model is None:
                    raise
                logger.exception("cannot read the current model pointer; keeping %s", self.model.version)
                return self.model
            if pointer is None:
                if self.model is None:
                    raise NoModel("no model has been published yet (run `polku recommend train`)")
                return self.model
            if self.model is None or pointer.version != self.model.version:
                try:
                    folder = self.store.download(pointer.version, self.root, pointer.manifest.get("files"))
                    model = TrainedModel.load(folder)
                except Exception:
                    if self.model is None:
                        raise
                    logger.exception("cannot load model %s; keeping %s", pointer.version, self.model.version)
                    return self.model
                old = self.model
                self.model = model
                # the model's long-lived objects (ids, id map, columns) leave the collector's
                # generations: later collections do not walk them during a query
                gc.freeze()
                logger.info("recommend model loaded", extra={"model_version": model.version})
                if old is not None:
                    self._remove_others(model.version)
            self._etag = pointer.etag
            return self.model

    def _remove_others(self, keep: str) -> None:
        """Bound /tmp: old version folders go (memory maps stay valid until dropped)."""
        for child in self.root.iterdir():
            if child.name != keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)
