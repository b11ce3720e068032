"""The recommend and catalog CLI as a user runs them: evaluate on a CSV it has never seen
(other column names, only the column flags), import a catalogue into the twin, train from a CSV."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

POLKU = [sys.executable, "-m", "polku.cli.main"]


def test_evaluate_runs_on_an_unseen_csv_with_only_the_column_flags(tmp_path):
    rows = ["basket_no,client,article,qty"]
    for c in range(40):
        for b in range(5):
            for a in (["soap", "towel"] if c % 3 else ["pen", "ink", "paper"]) + [f"misc{(c * b) % 7}"]:
                rows.append(f"{c}-{b},cust{c},{a},1")
    path = tmp_path / "shop.csv"
    path.write_text("\n".join(rows) + "\n")
    out = subprocess.run(POLKU + ["recommend", "evaluate", "--interactions", str(path), "--user-col", "client",
                                  "--item-col", "article", "--basket-col", "basket_no", "--protocol", "last-basket",
                                  "--k", "4", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {r["model"] for r in result} == {"polku", "popularity", "own_history+popularity", "item_knn_cosine", "ease"}
    assert all({"hr@4", "recall@4", "ndcg@4", "coverage"} <= set(r) for r in result)


@pytest.mark.twin
def test_catalog_import_keeps_good_rows_and_reports_bad_ones(twin, tmp_path, capsys):
    from polku.cli.main import main
    from polku.data.catalog import ProductModel

    run = uuid.uuid4().hex[:8]
    path = tmp_path / "products.csv"
    path.write_text("product_id,name,category,price,url\n"
                    f"{run}-1,Good tea,drinks,3.50,https://shop.example/p/1\n"
                    f"{run}-2,,drinks,oops,https://shop.example/p/2\n"
                    f"{run}-3,Good cup,kitchen,,\n")
    code = main(["--endpoint", twin.api_url, "catalog", "import", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "line 3, field name: required" in err and "line 3, field price" in err
    assert ProductModel.get(f"{run}-1").price == 3.5 and ProductModel.get(f"{run}-3").name == "Good cup"
    assert ProductModel.count(f"{run}-2") == 0


@pytest.mark.twin
def test_train_from_a_csv_publishes_to_the_twin_and_show_reads_it(twin, tmp_path, capsys):
    from polku.cli.main import main

    run = uuid.uuid4().hex[:8]
    rows = ["order,who,what,n"]
    for c in range(20):
        for o in range(3):
            for a in ([f"{run}-a", f"{run}-b"] if c % 2 else [f"{run}-c", f"{run}-d"]):
                rows.append(f"{c}-{o},{c},{a},{o}")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n")
    code = main(["--endpoint", twin.api_url, "recommend", "train", "--interactions", str(path), "--user-col", "who",
                 "--item-col", "what", "--basket-col", "order", "--time-col", "n", "--force", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["published"] is True and out["manifest"]["item_count"] == 4
    assert main(["--endpoint", twin.api_url, "recommend", "show"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == out["version"]
