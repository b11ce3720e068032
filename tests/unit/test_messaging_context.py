"""Template context: the cached product normalisation gives what the plain path gives."""

from __future__ import annotations

import copy
import decimal
import json
import pickle

import pytest
from markupsafe import Markup

from polku.messaging import message_context as mc


def reference(items, shop_url, limit=mc.MAX_PRODUCTS):
    """The straightforward path: clean everything, then normalise."""
    return mc.normalise_products(mc.clean(items), shop_url, limit)


LOOKALIKES = [  # equal as Python values, different on the page
    {"product_id": "1", "name": "A", "price": 1},
    {"product_id": "1", "name": "A", "price": 1.0},
    {"product_id": "1", "name": "A", "price": True},
    {"product_id": "1", "name": "A", "price": 0.0},
    {"product_id": "1", "name": "A", "price": -0.0},
    {"product_id": "1", "name": "A", "price": decimal.Decimal("2.50")},
    {"product_id": "1", "name": "A", "price": decimal.Decimal("2.5")},
    {"product_id": "1", "name": "A", "price": 2.5},
    {"product_id": "1", "name": "A", "price": "2.5"},
    {"product_id": 1, "name": "A", "price": 1},
    {"product_id": True, "name": "A", "price": 1},
    {"name": "A", "product_id": "1", "price": 1},
    {"product_id": "1", "name": "A\x1fB", "price": 1, "url": "javascript:x"},
    {"product_id": "1", "name": "A", "price": 1, "tags": ["x"], "url": "https://s.example.com/1"},
    {"product_id": "1", "name": "A", "price": 1, "nested": {"deep": [[[[[[[[[1]]]]]]]]]}},
    {"product_id": "", "name": ""},
    {1: "x", "name": "A"},
    {True: "x", "name": "A"},
    {1.0: "x", "name": "A"},
    {Markup("product_id"): "1", "name": "A", "price": 1},
    {"product_id": "1", "name": Markup("A"), "price": 1},
    {"product_id": "1", "name": Markup("<b>A</b>"), "price": 1},
    {"product_id": "1", "name": "<b>A</b>", "price": 1},
    {"product_id": "1", "name": "A", "price": 1, "extra": 0.0},
    {"product_id": "1", "name": "A", "price": 1, "extra": 0},
    {"product_id": "1", "name": "A", "price": float("nan")},
    "not a product",
    None,
]


@pytest.mark.parametrize("shop_url", ["https://shop.example.com/", "https://other.example.com/"])
def test_cached_normalisation_matches_the_plain_path_even_for_lookalike_values(shop_url):
    mc._NORMALISED.clear()
    for _ in range(2):  # cold cache, then warm
        for p in LOOKALIKES:
            got = mc._products([p], shop_url, mc.MAX_PRODUCTS, depth=1)
            want = reference([p], shop_url)
            assert got == want and [list(map(type, g.values())) for g in got] == [list(map(type, w.values())) for w in want]
            assert [repr(g) for g in got] == [repr(w) for w in want], p
    assert mc._products(LOOKALIKES * 3, shop_url, 12, depth=1) == reference(LOOKALIKES * 3, shop_url, 12)
    assert mc._products(tuple(LOOKALIKES), shop_url, 50, depth=1) == reference(tuple(LOOKALIKES), shop_url, 50)
    assert mc._products("abc", shop_url, 12, depth=1) == reference("abc", shop_url) == []


def test_normalised_products_are_shared_and_read_only():
    p = {"product_id": "9", "name": "Rye", "price": 3.5, "url": "https://shop.example.com/9"}
    first = mc._products([p], "https://shop.example.com/", 12, depth=1)[0]
    for change in (lambda d: d.__setitem__("name", "x"), lambda d: d.update(name="x"), lambda d: d.pop("name"),
                   lambda d: d.setdefault("new", 1), lambda d: d.popitem(), lambda d: d.clear(),
                   lambda d: d.__delitem__("name"), lambda d: d.__ior__({"name": "x"})):
        with pytest.raises(TypeError, match="read-only"):
            change(first)
    again = mc._products([p], "https://shop.example.com/", 12, depth=1)[0]
    assert again is first and again["name"] == "Rye"
    copied = dict(first)
    copied["name"] = "a changeable copy"
    assert first["name"] == "Rye"
    assert copy.deepcopy(first) == first and type(copy.copy(first)) is mc.ReadOnlyDict
    assert pickle.loads(pickle.dumps(first)) == first and json.dumps(first) == json.dumps(dict(first))


def test_the_brand_is_read_only_and_one_object_per_distinct_brand():
    a = mc._brand({"name": "Shop", "color": "#000"})
    assert a is mc._brand({"name": "Shop", "color": "#000"}) and a == {**mc.DEFAULT_BRAND, "name": "Shop", "color": "#000"}
    assert mc._brand(None) is mc._brand({}) == mc.DEFAULT_BRAND
    assert mc._brand({"name": "Other"})["name"] == "Other"
    with pytest.raises(TypeError):
        a["name"] = "x"


def test_content_keys_tell_lookalike_values_apart():
    one, one_float, true = (mc.ReadOnlyDict({"v": v}) for v in (1, 1.0, True))
    keys = {one._content_key(), one_float._content_key(), true._content_key()}
    assert len(keys) == 3 and None not in keys
    assert mc.ReadOnlyDict({"v": 0.0})._content_key() is None and mc.ReadOnlyDict({"v": [1]})._content_key() is None
    assert one._content_key() == mc._content_number(mc.flat_key({"v": 1}))  # the number of its flat_key
    assert mc.ReadOnlyDict({"v": 1})._content_key() == one._content_key()  # equal contents, one number


def test_data_product_lists_and_other_data_match_the_plain_path():
    data = {
        "cart_items": [{"product_id": "1", "name": "A", "price": 1.0}, "junk", {"name": "B", "deep": [{"x": "\x00y"}]}],
        "order_items": ({"name": "C", "price": decimal.Decimal("1.10")},),
        "viewed_items": "not a list",
        "cart_url": "https://shop.example.com/cart\x07",
        7: {"a": [1, (2, 3)], "b": decimal.Decimal("3")},
        "total": decimal.Decimal("5.25"),
    }
    want = dict(mc.clean(data))
    for key in mc.PRODUCT_LISTS_IN_DATA:
        if key in want:
            want[key] = mc.normalise_products(want[key], "https://s.example.com/", limit=50)
    assert mc._data(data, "https://s.example.com/") == want
    assert mc._data(None, "https://s.example.com/") == {}


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(mc, "NORMALISED_CACHE_MAX", 5)
    mc._NORMALISED.clear()
    for i in range(12):
        mc._products([{"product_id": str(i), "name": f"P{i}", "price": i + 1}], "https://s.example.com/", 12, depth=1)
    assert 0 < len(mc._NORMALISED) <= 5


def _reference_clean(value, depth=0):
    """clean() as it was written before the inlined fast paths."""
    if isinstance(value, str):
        return mc._CONTROL.sub("", value)
    if depth > 8:
        return None
    if isinstance(value, dict):
        return {str(k): _reference_clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reference_clean(v, depth + 1) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def test_clean_matches_the_reference_at_every_depth():
    import random

    rng = random.Random(4)

    def make(depth):
        kind = rng.randrange(7) if depth < 12 else rng.randrange(4)
        return [lambda: "a\x00b\x1fc", lambda: rng.choice([0, 1.5, -0.0, True, None]),
                lambda: decimal.Decimal(rng.choice(["2.50", "3", "-0"])), lambda: "plain",
                lambda: {rng.choice(["k", 1, True, "x\x07"]): make(depth + 1) for _ in range(3)},
                lambda: [make(depth + 1) for _ in range(2)], lambda: (make(depth + 1),)][kind]()

    for _ in range(300):
        value = make(0)
        assert repr(mc.clean(value)) == repr(_reference_clean(value))
    deep: object = {"s": "x\x00", "n": 1, "f": 2.5, "z": None}
    for level in range(12):  # every depth around the cut at 8, dicts and lists
        deep = {"d": deep, "n": level, "s": "y\x1f", "l": [deep, level]}
        assert repr(mc.clean(deep)) == repr(_reference_clean(deep))


def test_clean_strings_are_what_the_control_character_expression_leaves():
    import random

    rng = random.Random(3)
    alphabet = ["a", " ", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\x85", "\u00a0", "\u2028", "é", "\U0001f600"]
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))
        want = mc._CONTROL.sub("", text)
        for got in (mc.clean(text), mc.clean({"k": text})["k"], mc.clean(Markup(text))):
            assert got == want and type(got) is str, repr(text)
