"""Recommendations end to end on the local twin: events in the twin's events table -> the real
TrainFunction -> a model in the twin's S3 -> the real RecommendFunction answers through the
twin's Lambda -> a message template renders the products. Plus: atomic switches, refused
models, and calls during a switch."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import uuid

import jinja2.sandbox
import numpy as np
import pytest

pytestmark = [pytest.mark.twin, pytest.mark.slow]

RUN = uuid.uuid4().hex[:8]
FRUIT = [f"{RUN}-f{i}" for i in range(4)]
VEG = [f"{RUN}-v{i}" for i in range(4)]
OFF_SALE = f"{RUN}-v3"


def pid_customer(i: int) -> str:
    return f"{RUN}-c{i}"


@pytest.fixture(scope="module")
def env(twin):
    from polku.data.events import EventModel
    from polku.data import catalog
    from polku.recommend.catalog import demo_product
    from polku.recommend.model_store import ModelStore

    products = [demo_product(p) for p in FRUIT + VEG]
    for p in products:
        p["category"] = "fruit" if p["product_id"] in FRUIT else "veg"
    catalog.save_products(products)
    base = dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone.utc)
    with EventModel.batch_write() as batch:
        for c in range(24):
            group = FRUIT if c % 2 == 0 else VEG
            for o in range(4):
                at = base + dt.timedelta(days=o * 3, hours=c)
                items = [group[(o + j) % 4] for j in range(3)]
                eid = f"{RUN}-c{c}-o{o}"
                ts = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                batch.save(EventModel(eid, subject=f"c#{pid_customer(c)}", ts=f"{ts}#{eid}", type="purchase",
                                      customer_id=pid_customer(c), client_ts=ts, received_at=ts,
                                      properties={"order_id": eid, "items": [{"product_id": p} for p in items]}))
        # customer 0 (a fruit buyer) looked at a vegetable and left it
        ts = "2026-01-20T10:00:00Z"
        eid = f"{RUN}-c0-view"
        batch.save(EventModel(eid, subject=f"c#{pid_customer(0)}", ts=f"{ts}#{eid}", type="product_view",
                              customer_id=pid_customer(0), client_ts=ts, received_at=ts,
                              properties={"product_id": VEG[1]}))
    lam = twin.client("lambda")
    store = ModelStore(twin.client("s3"), twin.names["ModelsBucket"])
    return {"lambda": lam, "store": store, "twin": twin}


def invoke(env, logical_id: str, event: dict):
    resp = env["lambda"].invoke(FunctionName=env["twin"].names[logical_id], Payload=json.dumps(event).encode())
    body = json.loads(resp["Payload"].read())
    return body, resp.get("FunctionError")


def recommend(env, **event):
    body, error = invoke(env, "RecommendFunction", {"k": 4, **event})
    assert error is None, body
    return body


def handler_module():
    return sys.modules["polku_fn.recommend.handler"]


@pytest.fixture(scope="module")
def trained(env):
    body, error = invoke(env, "TrainFunction", {"force": True})
    assert error is None, body
    assert body["published"] is True, body
    recommend(env, strategy="for_customer")  # loads the model in the (warm) container
    handler_module().model_cache().check_seconds = 0  # notice every switch at once in tests
    return body


def test_training_publishes_a_versioned_model_and_the_pointer(env, trained):
    store = env["store"]
    assert store.current().version == trained["version"]
    keys = {o["Key"] for o in store.s3.list_objects_v2(Bucket=store.bucket, Prefix=f"models/{trained['version']}/")["Contents"]}
    files = ("index.ann", "items.json", "rerank_indptr.npy", "rerank_items.npy", "rerank_weights.npy", "manifest.json")
    assert keys == {f"models/{trained['version']}/{f}" for f in files}
    m = trained["manifest"]
    assert sorted(m["files"]) == sorted(files) and m["rerank_neighbours"] >= 1
    assert m["metric"] == "angular" and m["dimensions"] == 64 and m["item_count"] >= len(FRUIT + VEG)
    assert "trained_at" in m and "training_seconds" in m and "evaluation" in m


def test_recommend_answers_every_strategy_with_catalogue_content(env, trained):
    out = recommend(env, strategy="also_bought", product_id=FRUIT[0])
    assert out["model_version"] == trained["version"] and out["strategy"] == "also_bought"
    first = out["items"][0]
    assert first["product_id"] in FRUIT[1:]  # bought together with FRUIT[0]
    assert set(first) >= {"product_id", "name", "price", "image_url", "url", "category", "score", "reason"}
    assert first["name"].endswith(first["product_id"].split("-")[-1]) or first["name"]
    assert first["url"].endswith("/p/" + first["product_id"])

    similar = recommend(env, strategy="similar", product_id=VEG[0])
    assert {i["category"] for i in similar["items"][:2]} == {"veg"}

    mine = recommend(env, strategy="for_customer", customer_id=pid_customer(0), exclude_purchased=True)
    ids = [i["product_id"] for i in mine["items"]]
    assert not set(ids) & set(FRUIT)  # customer 0 bought every fruit: all excluded
    assert VEG[1] == ids[0] and mine["items"][0]["reason"] == "viewed"

    again = recommend(env, strategy="for_customer", customer_id=pid_customer(2))
    assert again["items"][0]["product_id"] in FRUIT and again["items"][0]["reason"] == "buy_again"

    viewed = recommend(env, strategy="viewed_not_bought", customer_id=pid_customer(0))
    assert [i["product_id"] for i in viewed["items"]] == [VEG[1]]

    favourites = recommend(env, strategy="category_favourites", customer_id=pid_customer(1), k=2)
    assert {i["category"] for i in favourites["items"]} == {"veg"}

    newcomer = recommend(env, strategy="for_customer", customer_id=f"{RUN}-nobody", k=3)
    assert len(newcomer["items"]) == 3 and {i["reason"] for i in newcomer["items"]} == {"popular"}


def test_products_taken_off_sale_after_training_are_not_shown(env, trained):
    from polku.data.catalog import ProductModel

    ProductModel(OFF_SALE).update(actions=[ProductModel.available.set(False)])
    try:
        for strategy in ("also_bought", "similar"):
            out = recommend(env, strategy=strategy, product_id=VEG[0], k=6)
            assert OFF_SALE not in [i["product_id"] for i in out["items"]]
    finally:
        ProductModel(OFF_SALE).update(actions=[ProductModel.available.set(True)])


def test_bad_request_is_a_clear_lambda_error(env, trained):
    body, error = invoke(env, "RecommendFunction", {"strategy": "also_bought"})
    assert error and body["errorType"] == "InvalidRequest"
    assert body["errorMessage"].startswith("product_id:")


def test_a_message_template_renders_the_products(env, trained):
    out = recommend(env, strategy="also_bought", product_id=FRUIT[0], k=3)
    template = jinja2.sandbox.SandboxedEnvironment(autoescape=True).from_string(
        "{% for p in items %}<a href=\"{{ p.url }}\"><img src=\"{{ p.image_url }}\">{{ p.name }} "
        "{{ '%.2f'|format(p.price) }}</a>{% endfor %}")
    html = template.render(items=out["items"])
    for item in out["items"]:
        assert item["name"] in html and item["url"] in html and f"{item['price']:.2f}" in html


def _local_model(folder, version, evaluation, items, nan=False):
    from polku.recommend.interactions import Interactions
    from polku.recommend.training import TrainingConfig, train

    users, its = [], []
    for u in range(12):
        users += [f"u{u}"] * 2
        its += [items[u % len(items)], items[(u + 1) % len(items)]]
    m = train(Interactions.from_records(users, its), TrainingConfig(dim=8, min_count=1),
              manifest={"version": version, "evaluation": evaluation})
    if nan:
        m.embeddings[:] = np.nan
    m.save(folder)
    return folder


def test_switch_is_atomic_and_calls_during_switches_never_fail(env, trained, tmp_path):
    store = env["store"]
    versions = {trained["version"]}
    errors, answers = [], []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            body, error = invoke(env, "RecommendFunction", {"strategy": "also_bought", "product_id": FRUIT[0], "k": 2})
            (errors if error else answers).append(body)

    t = threading.Thread(target=hammer)
    t.start()
    try:
        for n in range(4):
            v = f"{RUN}-switch{n}"
            store.publish(_local_model(tmp_path / v, v, {"hr@10": 0.9}, FRUIT + VEG), force=True)
            versions.add(v)
            assert recommend(env, strategy="similar", product_id=VEG[0])["model_version"] == v  # noticed at once
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:1]
    assert answers and all(a["model_version"] in versions and len(a["items"]) == 2 for a in answers)


def test_bad_models_are_refused_and_the_current_one_keeps_answering(env, trained, tmp_path):
    from polku.recommend.model_store import ModelRefused

    store = env["store"]
    before = store.current().version
    folder = _local_model(tmp_path / "nan", f"{RUN}-nan", {"hr@10": 0.99}, FRUIT, nan=True)
    with pytest.raises(ModelRefused, match="NaN"):
        store.publish(folder)
    worse = _local_model(tmp_path / "worse", f"{RUN}-worse", {"hr@10": 0.0}, FRUIT)
    with pytest.raises(ModelRefused, match="worse"):
        store.publish(worse)
    assert store.current().version == before
    # a pointer to a half-uploaded folder (only a manifest): the container keeps the model it has
    ghost = f"{RUN}-ghost"
    store.s3.put_object(Bucket=store.bucket, Key=f"models/{ghost}/manifest.json", Body=b"{}")
    good = store.current()
    store.s3.put_object(Bucket=store.bucket, Key="models/current.json",
                        Body=json.dumps({"version": ghost, "manifest": {}}).encode())
    try:
        assert recommend(env, strategy="also_bought", product_id=FRUIT[0])["model_version"] == before
    finally:
        store.s3.put_object(Bucket=store.bucket, Key="models/current.json",
                            Body=json.dumps({"version": good.version, "manifest": good.manifest}).encode())


def test_scheduled_training_worse_than_current_does_not_replace_it(env, trained, tmp_path):
    store = env["store"]
    best = f"{RUN}-best"
    store.publish(_local_model(tmp_path / best, best, {"hr@10": 1.5}, FRUIT + VEG), force=True)
    body, error = invoke(env, "TrainFunction", {})
    assert error is None, body
    assert body["published"] is False and "worse than the current" in body["reason"]
    assert store.current().version == best
