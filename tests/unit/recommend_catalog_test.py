"""Catalogue import: bad rows reported by line and field, good rows kept; synthetic demo."""

from decimal import Decimal

import pytest

from polku.recommend.catalog import CatalogFileError, demo_catalog, demo_product, parse

CSV = """product_id,name,category,price,image_url,url,available
p1,Apple,fruit,1.20,https://img.example/a.png,https://shop.example/p1,true
p2,,fruit,abc,ftp://x,https://shop.example/p2,maybe
p3,Carrot,veg,-1,,,
p1,Apple again,fruit,1,,,
p4,Dill,veg,2.5,,,false
"""


def test_csv_keeps_good_rows_and_reports_bad_ones_by_line_and_field():
    r = parse(CSV, "csv")
    assert [p["product_id"] for p in r.products] == ["p1", "p4"]
    assert r.products[0]["price"] == Decimal("1.20") and r.products[0]["available"] is True
    assert r.products[1]["available"] is False
    found = {(e.line, e.field) for e in r.errors}
    assert found == {(3, "name"), (3, "price"), (3, "image_url"), (3, "available"), (4, "price"), (5, "product_id")}
    assert "duplicate of line 2" in str(next(e for e in r.errors if e.line == 5))


def test_json_list_with_unknown_field_and_non_object():
    r = parse('[{"product_id": "a", "name": "A", "category": "c", "colour": "red"}, 3,'
              ' {"product_id": "b", "name": "B", "category": "c", "currency": "eur"}]', "json")
    assert [p["product_id"] for p in r.products] == ["b"]
    assert r.products[0]["currency"] == "EUR"
    assert {(e.line, e.field) for e in r.errors} == {(1, "colour"), (2, "(row)")}


def test_unreadable_files_are_one_clear_error():
    with pytest.raises(CatalogFileError, match="product_id"):
        parse("name,category\nx,y\n", "csv")
    with pytest.raises(CatalogFileError, match="not valid JSON"):
        parse("{", "json")


def test_demo_catalogue_is_deterministic_and_says_it_is_synthetic():
    a, b = demo_product("196"), demo_product("196")
    assert a == b and a["synthetic"] is True and "Synthetic" in a["description"]
    assert a["price"] > 0 and a["url"].endswith("/p/196")
    assert len(demo_catalog(["1", "2", "1"])) == 2
    # the demo rows pass the importer's validation
    assert parse_ok([demo_product(str(i)) for i in range(50)])


def parse_ok(products):
    import io

    from polku.recommend.catalog import write_csv

    buf = io.StringIO()
    write_csv(products, buf)
    r = parse(buf.getvalue(), "csv")
    return not r.errors and len(r.products) == len(products)
