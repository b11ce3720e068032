"""Strategies on a tiny trained model: neighbours, blend, exclusions, fallbacks."""

import pytest

from polku.recommend.interactions import Interactions
from polku.recommend.strategies import CustomerHistory, Recommender, StrategyError
from polku.recommend.training import TrainingConfig, train

CATALOG = {
    "A": {"category": "fruit", "name": "Apple"},
    "B": {"category": "fruit", "name": "Banana"},
    "C": {"category": "veg", "name": "Carrot"},
    "D": {"category": "veg", "name": "Dill", "available": False},
    "E": {"category": "veg", "name": "Endive"},
}


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    # fruit people buy A+B, veg people buy C+D+E; A is the most popular
    users, items = [], []
    for u in range(12):
        basket = ["A", "B"] if u < 8 else ["C", "D", "E"]
        users += [f"u{u}"] * len(basket)
        items += basket
    users += ["u8"]
    items += ["A"]
    model = train(Interactions.from_records(users, items), TrainingConfig(dim=3, min_count=1),
                  catalog=CATALOG, manifest={"version": "t1"})
    model.save(tmp_path_factory.mktemp("model"))
    return Recommender(model)


def ids(rec, recs):
    return [rec.model.item_ids[r.row] for r in recs]


def test_also_bought_returns_the_co_bought_item_first(rec):
    assert ids(rec, rec.also_bought("A", k=1)) == ["B"]


def test_unavailable_items_are_never_recommended(rec):
    for strategy in ("also_bought", "similar"):
        out = ids(rec, rec.answer(strategy, k=4, product_id="C"))
        assert "D" not in out and "C" not in out


def test_similar_prefers_the_same_category(rec):
    assert ids(rec, rec.similar("C", k=1)) == ["E"]


def test_unknown_product_falls_back_to_popularity(rec):
    out = rec.also_bought("nope", k=2)
    assert [r.reason for r in out] == ["popular", "popular"]
    assert ids(rec, out)[0] == "A"


def test_new_customer_gets_popular_products(rec):
    out = rec.for_customer(CustomerHistory(), k=2)
    assert ids(rec, out) == ["A", "B"]  # counts 9, 8


def test_for_customer_blends_buy_again_and_viewed(rec):
    h = CustomerHistory(purchased={"C": 1.0}, viewed={"B": 1.0})
    out = rec.for_customer(h, k=3)
    assert ids(rec, out)[:2] == ["C", "B"]
    assert [r.reason for r in out[:2]] == ["buy_again", "viewed"]


def test_for_customer_adds_embedding_neighbours_of_the_history(rec):
    out = rec.for_customer(CustomerHistory(purchased={"C": 1.0}), k=2)
    assert ids(rec, out) == ["C", "E"]  # E is C's neighbour (D is unavailable), ahead of popular A
    assert out[1].reason == "because_you_bought"


def test_exclude_purchased_and_explicit_exclusions(rec):
    h = CustomerHistory(purchased={"C": 1.0})
    out = ids(rec, rec.for_customer(h, k=3, exclude_purchased=True, exclude=["E"]))
    assert out == ["A", "B"]  # C bought, E excluded, D unavailable: only two are left


def test_viewed_not_bought_orders_by_strength_and_does_not_fill(rec):
    h = CustomerHistory(purchased={"A": 1.0}, viewed={"B": 0.2, "E": 0.9, "D": 1.0})
    assert ids(rec, rec.viewed_not_bought(h, k=4)) == ["E", "B"]


def test_category_favourites_follow_the_customers_categories(rec):
    h = CustomerHistory(purchased={"C": 3.0, "A": 1.0})
    out = rec.category_favourites(h, k=3)
    assert [rec.model.category(r.row) for r in out] == ["veg", "veg", "fruit"] or \
        [rec.model.category(r.row) for r in out][:2] == ["veg", "veg"]
    assert out[0].reason == "favourite:veg"


def test_unknown_strategy_and_missing_product_are_errors(rec):
    with pytest.raises(StrategyError, match="strategy must be one of"):
        rec.answer("nope")
    with pytest.raises(StrategyError, match="product_id is required"):
        rec.answer("also_bought")
