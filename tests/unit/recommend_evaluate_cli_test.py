"""`polku recommend evaluate` on a small CSV it has never seen, with other column names."""

import json

import pytest

from polku.cli.main import main


@pytest.fixture
def csv_file(tmp_path):
    lines = ["shopper;sku;when;ticket".replace(";", ",")]
    for u in range(30):
        for t in range(4):
            basket = ["milk", "bread"] if u % 2 else ["tea", "lemon"]
            basket.append(f"extra{(u + t) % 6}")
            for sku in basket:
                lines.append(f"s{u},{sku},2026-01-{t + 1:02d}T10:00:00Z,t{u}-{t}")
    path = tmp_path / "never_seen.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = main(["recommend", "evaluate", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_one_object_per_model_with_the_k_keys(csv_file, capsys):
    code, out, _ = run(capsys, "--interactions", str(csv_file), "--user-col", "shopper", "--item-col", "sku",
                       "--time-col", "when", "--basket-col", "ticket", "--protocol", "last-basket", "--k", "3",
                       "--min-count", "1", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["model"] for r in rows] == ["polku", "popularity", "own_history+popularity", "item_knn_cosine", "ease"]
    for r in rows:
        assert {"hr@3", "recall@3", "ndcg@3", "coverage"} <= set(r)
        assert 0.0 <= r["hr@3"] <= 1.0
    by = {r["model"]: r for r in rows}
    assert by["polku"]["hr@3"] == 1.0  # every basket repeats the user's pair
    assert "annoy_recall@3" in by["polku"]


def test_last_n_new_items_only(csv_file, capsys):
    code, out, _ = run(capsys, "--interactions", str(csv_file), "--user-col", "shopper", "--item-col", "sku",
                       "--time-col", "when", "--protocol", "last-n", "--n", "2", "--k", "5", "--exclude-seen",
                       "--min-count", "1", "--json")
    assert code == 0 and len(json.loads(out)) == 5


def test_wrong_column_is_one_clear_line(csv_file, capsys):
    code, _, err = run(capsys, "--interactions", str(csv_file), "--user-col", "user_id", "--item-col", "sku",
                       "--basket-col", "ticket")
    assert code == 2
    assert "--user-col 'user_id' is not a column of never_seen.csv" in err
