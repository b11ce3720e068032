"""The recommend use case with fake adapters: request validation and template-ready items."""

import pytest

from polku.recommend.interactions import Interactions
from polku.recommend.service import InvalidRequest, Request, recommend
from polku.recommend.training import TrainingConfig, train


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    users, items = [], []
    for u in range(10):
        basket = ["A", "B"] if u < 6 else ["C", "E"]
        users += [f"u{u}"] * 2
        items += basket
    m = train(Interactions.from_records(users, items), TrainingConfig(dim=2, min_count=1),
              catalog={"A": {"name": "Apple (snapshot)", "price": 1.0, "category": "fruit"}},
              manifest={"version": "v7"})
    m.save(tmp_path_factory.mktemp("m"))
    return m


def call(model, event, events=(), fresh=None):
    return recommend(event, lambda: model, lambda cid: list(events), lambda ids: fresh or {})


@pytest.mark.parametrize("event,field", [
    ({"strategy": "nope"}, "strategy"),
    ({"strategy": "also_bought"}, "product_id"),
    ({"strategy": "viewed_not_bought"}, "customer_id"),
    ({"strategy": "for_customer", "k": 0}, "k"),
    ({"strategy": "for_customer", "k": "4"}, "k"),
    ({"strategy": "for_customer", "exclude_purchased": "yes"}, "exclude_purchased"),
    ({"strategy": "similar", "product_id": ""}, "product_id"),
    ({"strategy": "for_customer", "exclude": "A"}, "exclude"),
    ([], "event"),
])
def test_bad_requests_name_the_field(event, field):
    with pytest.raises(InvalidRequest, match=f"^{field}:"):
        Request.parse(event)


def test_items_carry_template_ready_content_with_fresh_catalogue_winning(model):
    out = call(model, {"strategy": "also_bought", "product_id": "B", "k": 1},
               fresh={"A": {"name": "Apple", "price": 1.25, "url": "https://s/p/A", "image_url": "https://s/a.png"}})
    assert out["model_version"] == "v7" and out["strategy"] == "also_bought"
    assert out["items"] == [{"product_id": "A", "name": "Apple", "price": 1.25, "currency": None,
                             "image_url": "https://s/a.png", "url": "https://s/p/A", "category": "fruit",
                             "score": out["items"][0]["score"], "reason": "also_bought"}]


def test_products_taken_off_sale_are_dropped(model):
    out = call(model, {"strategy": "also_bought", "product_id": "B", "k": 2}, fresh={"A": {"available": False}})
    assert "A" not in [i["product_id"] for i in out["items"]] and len(out["items"]) == 2


def test_for_customer_reads_the_customers_events(model):
    events = [{"type": "purchase", "client_ts": "2026-01-01T00:00:00Z", "properties": {"order_id": "o", "items": ["C"]}}]
    out = call(model, {"strategy": "for_customer", "customer_id": "c1", "k": 2, "exclude_purchased": True}, events)
    assert [i["product_id"] for i in out["items"]][0] == "E"
    out = call(model, {"strategy": "for_customer", "customer_id": "c1", "k": 1}, events)
    assert out["items"][0]["product_id"] == "C" and out["items"][0]["reason"] == "buy_again"
