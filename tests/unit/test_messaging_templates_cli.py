"""`polku templates lint` and `polku templates render`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from polku.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_lint_passes_on_shipped_templates(capsys):
    assert main(["templates", "lint", "--dir", str(REPO / "templates")]) == 0
    out = capsys.readouterr().out
    assert "0 error(s)" in out and "editable blocks intro" in out


def test_lint_reports_unknown_and_missing_variables(tmp_path, capsys):
    root = tmp_path / "templates"
    shutil.copytree(REPO / "templates", root)
    bad = root / "messages" / "broken"
    bad.mkdir()
    (bad / "en.j2").write_text(
        '{% extends "_layouts/brand.j2" %}\n{% block subject %}Hi{% endblock %}\n'
        "{% block html %}<p>{{ customer.nickname }}</p>{% endblock %}\n", encoding="utf-8")
    other = root / "messages" / "coupon"
    other.mkdir()
    (other / "en.j2").write_text(
        '{% extends "_layouts/brand.j2" %}\n{% block subject %}Hi {{ coupon }}{% endblock %}\n', encoding="utf-8")
    (bad / "fi.j2").write_text("{% block html %}{% if %}{% endblock %}", encoding="utf-8")
    assert main(["templates", "lint", "--dir", str(root)]) == 1
    out = capsys.readouterr().out
    assert "messages/coupon/en.j2:2: variable 'coupon'" in out
    assert "messages/coupon/en.j2: defines no channel" in out
    assert "messages/broken/en.j2: email: messages/broken/en.j2:3: undefined variable 'nickname'" in out
    assert "messages/broken/fi.j2:1: syntax error" in out


def test_render_prints_subject_text_and_html(tmp_path, capsys):
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps({"customer": {"first_name": "<Aino>"}, "products": []}), encoding="utf-8")
    assert main(["templates", "render", "welcome", "--context", str(ctx), "--locale", "cs",
                 "--dir", str(REPO / "templates")]) == 0
    out = capsys.readouterr().out
    assert "Subject: Vítejte v Polku Shop, <Aino>!" in out and "&lt;Aino&gt;" in out and "----- html -----" in out


def test_render_a_file_outside_templates_in_the_sandbox(tmp_path, capsys):
    ctx = tmp_path / "ctx.json"
    ctx.write_text("{}", encoding="utf-8")
    evil = tmp_path / "evil.j2"
    evil.write_text('{% extends "_layouts/brand.j2" %}{% block html %}{{ track.__globals__ }}{% endblock %}')
    assert main(["templates", "render", str(evil), "--context", str(ctx), "--dir", str(REPO / "templates")]) == 2
    assert "blocked by the sandbox" in capsys.readouterr().err


def test_render_bad_context_file_is_one_clear_line(tmp_path, capsys):
    ctx = tmp_path / "ctx.json"
    ctx.write_text("{nope", encoding="utf-8")
    assert main(["templates", "render", "welcome", "--context", str(ctx)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
