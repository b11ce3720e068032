"""Model store: versioned folders, compare-and-swap pointer, refusing bad and worse models.
S3 is moto in-process (the edge of this unit)."""

import json

import boto3
import numpy as np
import pytest
from moto import mock_aws

from polku.recommend.interactions import Interactions
from polku.recommend.model_cache import ModelCache, NoModel
from polku.recommend.model_store import ModelRefused, ModelStore, is_worse, new_version
from polku.recommend.training import TrainingConfig, train

BUCKET = "models-test-bucket"


@pytest.fixture
def store():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield ModelStore(s3, BUCKET)


def make_model(folder, version, hr=0.5, items=("A", "B", "C"), nan=False):
    users, its = [], []
    for u in range(6):
        users += [f"u{u}"] * 2
        its += [items[u % len(items)], items[(u + 1) % len(items)]]
    m = train(Interactions.from_records(users, its), TrainingConfig(dim=2, min_count=1),
              manifest={"version": version, "evaluation": {"hr@10": hr}})
    if nan:
        m.embeddings[0, 0] = np.nan
    m.save(folder)
    return folder


def test_publish_moves_the_pointer_and_keeps_versions_immutable(store, tmp_path):
    p1 = store.publish(make_model(tmp_path / "1", "v1"))
    assert store.current().version == "v1" == p1.version
    store.publish(make_model(tmp_path / "2", "v2", hr=0.51))
    assert store.current().version == "v2"
    keys = {o["Key"] for o in store.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {"models/v1/manifest.json", "models/v2/index.ann", "models/current.json"} <= keys


def test_worse_model_is_refused_unless_forced(store, tmp_path):
    store.publish(make_model(tmp_path / "1", "v1", hr=0.5))
    with pytest.raises(ModelRefused, match="worse than the current"):
        store.publish(make_model(tmp_path / "2", "v2", hr=0.3))
    assert store.current().version == "v1"
    store.publish(make_model(tmp_path / "3", "v3", hr=0.3), force=True)
    assert store.current().version == "v3"


def test_broken_model_is_refused(store, tmp_path):
    folder = make_model(tmp_path / "1", "v1", nan=True)
    with pytest.raises(ModelRefused, match="NaN"):
        store.publish(folder)
    (folder / "index.ann").unlink()
    with pytest.raises(ModelRefused, match="lacks index.ann"):
        store.publish(folder)
    assert store.current() is None


def test_pointer_switch_is_compare_and_swap(store, tmp_path):
    store.publish(make_model(tmp_path / "1", "v1"))
    stale = store.current()
    store.publish(make_model(tmp_path / "2", "v2"))
    # a publisher that read the pointer before v2 went in loses
    real_current = store.current
    store.current = lambda if_none_match=None: stale
    with pytest.raises(ModelRefused, match="changed while publishing"):
        store.publish(make_model(tmp_path / "3", "v3"))
    store.current = real_current
    assert store.current().version == "v2"


def test_cache_loads_once_follows_the_pointer_and_survives_a_bad_version(store, tmp_path):
    cache = ModelCache(store, tmp_path / "tmp", check_seconds=0)
    with pytest.raises(NoModel):
        cache.get()
    store.publish(make_model(tmp_path / "1", "v1"))
    m1 = cache.get()
    assert m1.version == "v1" and cache.get() is m1  # not reloaded: pointer unchanged (304)
    store.publish(make_model(tmp_path / "2", "v2", items=("A", "B", "D")))
    assert cache.get().version == "v2"
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == ["v2"]  # old folder removed
    # a pointer to a version whose files are missing: keep answering with v2
    store.s3.put_object(Bucket=BUCKET, Key="models/current.json",
                        Body=json.dumps({"version": "ghost", "manifest": {}}).encode())
    assert cache.get().version == "v2"


def test_is_worse_and_version_names():
    assert is_worse({"hr@10": 0.4}, {"hr@10": 0.5})
    assert is_worse({"hr@10": 0.49}, {"hr@10": 0.5}) is None  # within tolerance
    assert is_worse({}, {"hr@10": 0.5}) is None
    v = new_version("2026-01-05T03:30:00.123456+00:00")
    assert v.startswith("20260105T033000Z-") and v != new_version("2026-01-05T03:30:00Z")
