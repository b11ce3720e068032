"""Flattened templates (polku.messaging.flatten) render exactly what Jinja's own path renders.

The renderer flattens a message and its layout into one template per part where it can
(inheritance resolved, the layout's building blocks inlined, ``part`` fixed) and falls back
to Jinja's ordinary path where it cannot, or when a flattened render raises. These tests
hold both paths to the same output: the recorded golden corpus with flattening off, every
shipped message flattened, and a corpus of templates written to reach each rule (what is
flattened, what is not, errors, limits), rendered both ways.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from polku.messaging import flatten as flattening
from polku.messaging.templating import PASSES, TemplateRenderError, TemplateStore
from test_messaging_render_golden import RECIPIENTS, _load_golden, message_context, render_corpus

REPO = Path(__file__).resolve().parents[2]


def test_both_paths_give_the_recorded_corpus():
    """Flattened (with no render falling back to Jinja) and through Jinja's path alone."""
    golden = _load_golden()
    flat = TemplateStore(REPO / "templates")
    assert render_corpus(flat) == golden
    assert flat.flat_fallbacks == 0
    assert render_corpus(TemplateStore(REPO / "templates", flatten=False)) == golden


def _flattened(store: TemplateStore, path: str, channel: str) -> list[bool]:
    return [store._flat_template(store.html_env if env == "html" else store.text_env, path, part) is not None
            for part, env, _ in PASSES[channel]]


def test_every_shipped_message_is_flattened_unless_it_loops():
    store = TemplateStore(REPO / "templates")
    for name in store.message_names():
        for locale in store.locales(name):
            path = f"messages/{name}/{locale}.j2"
            source = (REPO / "templates" / path).read_text(encoding="utf-8")
            for channel in store.channels_of_path(path):
                # order confirmation lists the order with {% for %}: a loop in a block is not flattened
                assert _flattened(store, path, channel) == [("{% for" not in source)] * len(PASSES[channel]), (path, channel)


# ---------------------------------------------------------------- a corpus of edge cases
LATE_LAYOUT = """{%- set t = ui(locale) -%}
{%- if part == "html" -%}<b>{% block html %}{% endblock %}</b>{{ x }}{%- elif part == "email_text" -%}
{% block subject %}{% endblock %}{{ SEP }}{% block preheader %}{% endblock %}{{ SEP }}{% block text %}{% endblock %}
{%- else -%}{% block sms %}{% endblock %}{%- endif -%}
{%- set x = "late" -%}
"""

CALLPARAM_LAYOUT = """{%- macro box(heading, limit=2) -%}
[{{ heading }}/{{ limit }}:{% call(heading="inner") editable("nothing-overrides-this") %}{{ heading }}{% endcall %}]
{%- endmacro -%}
{%- if part == "html" -%}{% block html %}{% endblock %}{%- elif part == "email_text" -%}
{% block subject %}{% endblock %}{{ SEP }}{% block preheader %}{% endblock %}{{ SEP }}{% block text %}{% endblock %}
{%- else -%}{% block sms %}{% endblock %}{%- endif -%}
"""

# name -> (template source, flattened?)  (flattened: whether its email parts are flattened)
EDGE = {
    "kwargs": ("""{% extends "_layouts/brand.j2" %}
{% block subject %}{{ customer.first_name or "you" }} & co{% endblock %}
{% block html %}{{ product_list(products, limit=2, heading="H & <b>") }}{{ button(brand.shop_url, label="Go") }}
{{ product_list(data.cart_items | default([])) }}{{ offer_box(offer) }}{{ greeting() }}{% endblock %}
{% block text %}{{ product_list(products, heading="T", limit=1) }}{{ button(label="L", url=brand.shop_url) }}{% endblock %}
{% block sms %}{{ part }}/{{ channel }}/{{ locale }} {{ greeting() }}{% endblock %}
""", True),
    "in_expression": ("""{% extends "_layouts/brand.j2" %}
{% block subject %}{{ greeting()|upper }}{% endblock %}
{% block html %}{% if greeting() %}[{{ greeting() ~ "!" }}]{% endif %}<title2>{{ self.subject() }}</title2>{% endblock %}
{% block text %}{{ offer_box(offer)|trim }}{% endblock %}
""", True),
    "part_branches": ("""{% extends "_layouts/brand.j2" %}
{% block subject %}{% if part == "html" %}in html{% elif part == "email_text" %}in text{% else %}other{% endif %}{% endblock %}
{% block html %}{% if part != "html" %}never{% elif customer.first_name %}{{ part }} {{ customer.first_name }}{% else %}anon{% endif %}{% endblock %}
{% block text %}{{ "x" if part == "email_text" else "y" }}{% endblock %}
""", True),
    "caller_binds_a_free_name": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{% call(customer) editable("intro") %}{{ greeting() }}{% endcall %}{% endblock %}
{% block text %}{% call editable("intro") %}{{ greeting() }} {{ button(brand.shop_url, "B") }}{% endcall %}{% endblock %}
""", True),
    "top_level_set": ("""{% extends "_layouts/brand.j2" %}
{% set greeting_word = "Hei" %}
{% block html %}{{ greeting_word }} {{ greeting() }}{% endblock %}
{% block text %}{{ greeting_word }}{% endblock %}
""", False),
    "loop": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{% for p in products %}{{ p.name }};{% endfor %}{% endblock %}
{% block text %}{% for p in products %}{{ p.name }};{% endfor %}{% endblock %}
""", False),
    "super": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{{ greeting() }}{% endblock %}
{% block text %}{{ super() }}x{% endblock %}
""", False),
    "self_in_expression": ("""{% extends "_layouts/brand.j2" %}
{% block subject %}Hello{% endblock %}
{% block html %}{{ self.subject()|upper }}{% endblock %}
{% block text %}{{ self.subject() | lower }}{% endblock %}
""", False),
    "block_set": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{% set brand = {"name": "shadow"} %}{{ brand.name }}{% endblock %}
{% block text %}{{ brand.name }}{% endblock %}
""", False),
    "autoescape_tag": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{% autoescape false %}{{ customer.first_name }}{% endautoescape %}{% endblock %}
{% block text %}x{% endblock %}
""", False),
    "late_layout": ("""{% extends "_layouts/late.j2" %}
{% block subject %}S{% endblock %}
{% block html %}{{ x }}{% endblock %}
{% block text %}{{ t.hello }}{% endblock %}
""", False),
    "call_block_parameter": ("""{% extends "_layouts/callparam.j2" %}
{% block subject %}S{% endblock %}
{% block html %}{{ box("outer") }}{{ box(heading="kw", limit=3) }}{% endblock %}
{% block text %}{{ box(customer.first_name or "none") }}{% endblock %}
""", True),
    "missing_variable": ("""{% extends "_layouts/brand.j2" %}
{% block subject %}Hi{% endblock %}
{% block html %}{{ greeting() }}
{{ customer.nickname }}{% endblock %}
{% block text %}{{ customer.nickname }}{% endblock %}
""", True),
    "sandbox": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{{ customer.__class__.__mro__ }}{% endblock %}
{% block text %}{{ brand.name.format.__globals__ }}{% endblock %}
""", True),
    "too_long": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{% for i in range(6) %}{% endfor %}{% endblock %}
{% block text %}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{% endblock %}
""", False),
    "too_long_flat": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{{ "x" * 99999 }}{% endblock %}
{% block text %}ok{% endblock %}
""", True),
    "macro_param_undefined": ("""{% extends "_layouts/brand.j2" %}
{% block html %}{{ button(brand.shop_url) }}{% endblock %}
{% block text %}{{ product_list() }}{% endblock %}
""", True),
}


@pytest.fixture(scope="module")
def edge_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("templates")
    shutil.copytree(REPO / "templates", root, dirs_exist_ok=True)
    (root / "_layouts" / "late.j2").write_text(LATE_LAYOUT, encoding="utf-8")
    (root / "_layouts" / "callparam.j2").write_text(CALLPARAM_LAYOUT, encoding="utf-8")
    for name, (source, _) in EDGE.items():
        folder = root / "messages" / name
        folder.mkdir(parents=True)
        (folder / "en.j2").write_text(source, encoding="utf-8")
    return root


def _render(store: TemplateStore, name: str, recipient: dict, channel: str):
    try:
        msg = store.render(name, message_context(channel, recipient, journey=name), channel=channel, locale="en")
        return msg.parts
    except TemplateRenderError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("name", sorted(EDGE))
def test_edge_templates_render_the_same_both_ways(edge_root, name):
    flat, plain = TemplateStore(edge_root), TemplateStore(edge_root, flatten=False)
    path = f"messages/{name}/en.j2"
    for channel in ("email", "sms"):
        for r in RECIPIENTS:
            before = flat.flat_fallbacks
            want = _render(plain, name, r, channel)
            assert _render(flat, name, r, channel) == want, (name, channel, r["id"])
            if not isinstance(want, str):  # rendered: by the flattened template itself, not by the fallback
                assert flat.flat_fallbacks == before, (name, channel, r["id"])
    assert _flattened(flat, path, "email") == [EDGE[name][1]] * 2


def test_errors_name_the_file_and_line_the_author_wrote(edge_root):
    store = TemplateStore(edge_root)
    got = _render(store, "missing_variable", RECIPIENTS[0], "email")
    assert got.startswith("error: messages/missing_variable/en.j2:5: undefined variable 'nickname'")
    assert got.endswith("while rendering part 'email_text'")
    assert "blocked by the sandbox" in _render(store, "sandbox", RECIPIENTS[0], "email")
    assert "output is limited to" in _render(store, "too_long_flat", RECIPIENTS[0], "email")


def test_macros_called_in_expressions_stay_calls_and_the_rest_are_inlined(edge_root):
    store = TemplateStore(edge_root)
    for part, env in (("html", store.html_env), ("email_text", store.text_env)):
        template = store._flat_template(env, "messages/in_expression/en.j2", part)
        code = template.root_render_func.__code__
        names = set(code.co_names) | {c for k in code.co_consts if hasattr(k, "co_names") for c in k.co_names}
        assert "Macro" in names  # greeting() and offer_box() inside expressions are still macros
    kwargs = store._flat_template(store.html_env, "messages/kwargs/en.j2", "html")
    assert "Macro" not in kwargs.root_render_func.__code__.co_names  # every building block inlined: no macro made


def test_flatten_returns_none_for_a_template_that_does_not_extend(edge_root):
    store = TemplateStore(edge_root)
    (edge_root / "messages" / "plain").mkdir(exist_ok=True)
    (edge_root / "messages" / "plain" / "en.j2").write_text("{% block html %}x{% endblock %}", encoding="utf-8")
    assert flattening.flatten(store.html_env, "messages/plain/en.j2", "html") is None
    assert flattening.flatten(store.html_env, "messages/nonexistent/en.j2", "html") is None


def test_a_function_raising_stopiteration_reads_as_undefined_both_ways(edge_root):
    """Jinja turns StopIteration from a called function into an undefined value; a flattened
    part calls plain functions directly, fails, and is rendered again the ordinary way."""
    (edge_root / "messages" / "stopper").mkdir(exist_ok=True)
    (edge_root / "messages" / "stopper" / "en.j2").write_text(
        '{% extends "_layouts/brand.j2" %}{% block html %}[{{ stopper() is defined }}|{{ track("https://s.example.com/") }}]'
        '{% endblock %}{% block text %}{{ stopper() is defined }}{% endblock %}', encoding="utf-8")

    def stopper():
        raise StopIteration

    results = []
    for store in (TemplateStore(edge_root), TemplateStore(edge_root, flatten=False)):
        ctx = message_context("email", RECIPIENTS[0], journey="stopper")
        ctx["stopper"] = stopper
        results.append(store.render("stopper", ctx, channel="email", locale="en").parts)
        assert store._flat_template(store.html_env, "messages/stopper/en.j2", "html") is not None or not store.flatten
    assert results[0] == results[1] and "[False|https://" in results[0]["html"]


def test_known_values_follow_the_brand_the_locale_and_who_answers_ui(edge_root):
    store, plain = TemplateStore(edge_root), TemplateStore(edge_root, flatten=False)
    for brand in (None, {"name": "A & B", "color": "#111"}, {"name": "Other"}, None):
        for locale in ("fi", "en", "cs"):
            r = {**RECIPIENTS[0], "brand": brand}
            got = store.render("abandoned_cart", message_context("email", r), channel="email", locale=locale).parts
            assert got == plain.render("abandoned_cart", message_context("email", r), channel="email", locale=locale).parts
            assert (brand or {}).get("name", "Polku Shop").replace("&", "&amp;") in got["html"]
    # a context that brings its own ui(), and an environment whose ui() was replaced
    ctx = message_context("email", RECIPIENTS[0])
    ctx["ui"] = lambda locale: {"hello": "HOWDY", "recommended": "R", "code": "C", "valid_until": "V",
                                "fallback": "F", "unsubscribe": "U", "why": "W"}
    assert "HOWDY" in store.render("welcome", dict(ctx), channel="email", locale="en").html
    assert "HOWDY" not in store.render("welcome", message_context("email", RECIPIENTS[0]), channel="email", locale="en").html
    store, plain = TemplateStore(edge_root), TemplateStore(edge_root, flatten=False)  # globals set before any load
    for s in (store, plain):
        for env in (s.html_env, s.text_env):
            env.globals["ui"] = lambda locale: {**store.words["en"], "hello": "YO", "why": "Because"}
    got, want = (s.render("welcome", message_context("email", RECIPIENTS[0]), channel="email", locale="en").parts
                 for s in (store, plain))
    assert got == want and "YO" in got["html"] and "Because" in got["html"]
    assert store.flat_fallbacks == 0
