"""The model store in S3: immutable versioned folders and one atomic ``current`` pointer.

Layout in the models bucket::

    models/<version>/index.ann, items.json, rerank_items.npy, rerank_weights.npy, manifest.json
    models/current.json      {"version": ..., "manifest": {...}}

A version folder is written completely (manifest last) before the pointer moves, and is never
changed afterwards. The pointer is one small object replaced by a single PutObject made
conditional on the ETag the publisher read (compare-and-swap), so readers see either the old
or the new version — never a mix — and two concurrent publishers cannot both win. A model that
fails validation, or whose evaluation is worse than the current one's, is refused and the
pointer stays where it was.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from botocore.exceptions import ClientError

from polku.recommend.trained_model import FILES, ModelError, TrainedModel

PREFIX = "models/"
POINTER = "current.json"
PRIMARY_METRIC = "hr@10"
TOLERANCE = 0.02  # a new model may be this much worse (noise) and still replace the current one


class ModelRefused(Exception):
    """The model was not made current (invalid, worse than the current one, or lost a race)."""


@dataclass
class Pointer:
    version: str
    manifest: dict
    etag: str


def new_version(now_iso: str) -> str:
    """Sortable, unique: 20260105T030000Z-1a2b3c."""
    stamp = now_iso.replace("-", "").replace(":", "").split(".")[0].replace("+0000", "").rstrip("Z") + "Z"
    return f"{stamp}-{secrets.token_hex(3)}"


def validate(folder: str | Path) -> TrainedModel:
    """Load a model folder and check it is usable; raise ModelError naming the problem."""
    model = TrainedModel.load(folder)
    emb = np.asarray(model.embeddings)  # the vectors stored in the index
    if len(model.item_ids) < 2:
        raise ModelError("model has fewer than 2 items")
    if not np.all(np.isfinite(emb)):
        raise ModelError("embeddings contain NaN or infinity")
    if len(set(model.item_ids)) != len(model.item_ids):
        raise ModelError("item ids are not unique")
    if not model.version:
        raise ModelError("manifest has no version")
    return model


def is_worse(new: dict, old: dict, metric: str = PRIMARY_METRIC, tolerance: float = TOLERANCE) -> str | None:
    """Why ``new`` evaluation is worse than ``old`` (None if it is not, or cannot be compared)."""
    a, b = (new or {}).get(metric), (old or {}).get(metric)
    if a is None or b is None:
        return None
    if a < b - tolerance:
        return f"{metric} {a:.4f} is worse than the current model's {b:.4f}"
    return None


class ModelStore:
    def __init__(self, s3, bucket: str, prefix: str = PREFIX):
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix

    @property
    def pointer_key(self) -> str:
        return self.prefix + POINTER

    def current(self, if_none_match: str | None = None) -> Pointer | None:
        """The current pointer; None if there is none. With ``if_none_match`` (the ETag the
        caller holds) an unchanged pointer costs a 304 and raises NotModified."""
        kwargs = {"Bucket": self.bucket, "Key": self.pointer_key}
        if if_none_match:
            kwargs["IfNoneMatch"] = if_none_match
        try:
            obj = self.s3.get_object(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            if code in ("304", "NotModified"):
                raise NotModified() from None
            raise
        body = json.loads(obj["Body"].read())
        return Pointer(body["version"], body.get("manifest", {}), obj["ETag"])

    def publish(self, folder: str | Path, force: bool = False) -> Pointer:
        """Upload a validated model folder and make it current. Raises ModelRefused."""
        try:
            model = validate(folder)
        except ModelError as exc:
            raise ModelRefused(f"invalid model: {exc}") from None
        version, manifest = model.version, model.manifest
        previous = self.current()
        if previous and not force:
            why = is_worse(manifest.get("evaluation", {}), previous.manifest.get("evaluation", {}))
            if why:
                raise ModelRefused(f"model {version} refused: {why}")
        folder = Path(folder)
        for name in _manifest_last(model.files):  # a folder with a manifest is complete
            self.s3.upload_file(str(folder / name), self.bucket, f"{self.prefix}{version}/{name}")
        body = json.dumps({"version": version, "manifest": manifest}).encode()
        condition = {"IfMatch": previous.etag} if previous else {"IfNoneMatch": "*"}
        try:
            put = self.s3.put_object(Bucket=self.bucket, Key=self.pointer_key, Body=body,
                                     ContentType="application/json", **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                raise ModelRefused(f"model {version} refused: the current model changed while publishing") from None
            raise
        return Pointer(version, manifest, put["ETag"])

    def download(self, version: str, root: str | Path, files=None) -> Path:
        """Fetch a version folder into ``root/<version>`` (written to a temporary folder and
        renamed, so a half-downloaded folder is never used). ``files``: the manifest's list
        (older models have fewer files); default all of FILES."""
        files = tuple(files or FILES)
        root = Path(root)
        final = root / version
        if (final / "manifest.json").is_file():
            return final
        tmp = root / f".{version}.{os.getpid()}.{secrets.token_hex(3)}"
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            with ThreadPoolExecutor(max_workers=len(files)) as pool:  # in parallel: cold start time
                list(pool.map(lambda name: self.s3.download_file(self.bucket, f"{self.prefix}{version}/{name}",
                                                                 str(tmp / name)), files))
            try:
                os.rename(tmp, final)
            except OSError:  # another thread finished first
                if not (final / "manifest.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final


def _manifest_last(files) -> list[str]:
    return [f for f in files if f != "manifest.json"] + ["manifest.json"]


class NotModified(Exception):
    """The pointer has the ETag the caller already has."""
