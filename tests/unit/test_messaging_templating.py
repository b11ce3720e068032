"""The template sandbox: injection corpus, resource limits, escaping, strict variables, locales."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest

from polku.messaging.message_context import build_context, preview_track
from polku.messaging.templating import TemplateRenderError, TemplateStore, locale_chain, render_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store():
    return TemplateStore(REPO / "templates")


def ctx(**over):
    base = dict(
        customer={"first_name": "Ann", "email": "ann@example.com"},
        products=[{"product_id": "p1", "name": "Rye bread", "price": 3.5, "url": "https://shop.example.com/p1"}],
        offer=None,
        data={},
        brand=None,
        links={"unsubscribe": "https://t.example.com/u", "open_pixel": "https://t.example.com/o"},
        message={"id": "m1"},
        track=preview_track,
    )
    base.update(over)
    return build_context(**base)


def _snippet(tmp_path, body: str):
    path = tmp_path / "snippet.j2"
    path.write_text(
        '{% extends "_layouts/brand.j2" %}{% block subject %}S{% endblock %}'
        "{% block html %}" + body + "{% endblock %}{% block text %}" + body + "{% endblock %}",
        encoding="utf-8",
    )
    return path


def render_snippet(store, tmp_path, body: str, channel="email", **over):
    return render_file(_snippet(tmp_path, body), ctx(**over), channel=channel, store=store)


INJECTIONS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.__class__ }}",
    "{{ track.__globals__ }}",
    "{{ editable.__globals__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__dict__ }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ customer|attr('__class__') }}",
    "{{ products.__class__.__mro__ }}",
    "{{ range.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ '{0.__class__}'.format(customer) }}",
    "{{ '{0.__globals__}'.format(track) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ '{x.__init__.__globals__}'.format_map({'x': cycler}) }}",
    "{{ ('%s' % track.__globals__) }}",
    "{{ track._private }}",
]
LIMITS = [
    "{% for i in range(100000) %}x{% endfor %}",
    "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
    "{% set l = range(1000)|list %}{% for a in l %}{% for b in l %}{% for c in l %}{% endfor %}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ [1] * 10000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=999999999) }}",
    "{{ '{x:>999999999}'.format_map({'x': 1}) }}",
    "{{ ('<b>'|safe ~ '{:>999999999}').format(1) }}",
    "{{ 'x'|center(999999999) }}",
    "{{ 'x'|indent(999999999) }}",
    "{{ '%0999999999d'|format(1) }}",
    "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}",
    "{{ ('a.com ' * 9000)|urlize(target='x' * 99999) }}",  # urlize is not available
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_template_reaching_for_python_internals_is_blocked(store, tmp_path, payload):
    with pytest.raises(TemplateRenderError) as err:
        render_snippet(store, tmp_path, payload)
    msg = str(err.value)
    assert "snippet.j2" in msg and ("blocked by the sandbox" in msg or "undefined" in msg), msg


@pytest.mark.parametrize("payload", LIMITS)
def test_resource_limits_stop_runaway_templates_quickly(store, tmp_path, payload):
    started = time.perf_counter()
    with pytest.raises(TemplateRenderError):
        render_snippet(store, tmp_path, payload)
    assert time.perf_counter() - started < 5  # a guard against hanging, not a speed target


@pytest.mark.parametrize("payload", [p for p in LIMITS if ".format" in p])
def test_format_widths_are_refused_before_the_string_is_built(store, tmp_path, payload):
    # Jinja's own str.format wrapper builds the padded string first; a 1e9-wide field was a
    # gigabyte of memory before the output limit noticed.
    with pytest.raises(TemplateRenderError, match="format widths are limited to 1000"):
        render_snippet(store, tmp_path, payload)


@pytest.mark.parametrize("payload", [
    "{% set l = [1] %}{{ l.append(2) }}",  # no list or dict changes in place (Jinja's immutable sandbox)
    "{% set d = {} %}{{ d.update({'a': 1}) }}",
    "{% for p in products %}{{ p.update({'name': 'changed'}) }}{% endfor %}",
    "{{ products[0].pop('name') }}",
    "{{ brand.update({'name': 'changed'}) }}",
    "{{ brand.setdefault('x', 1) }}",
])
def test_a_template_cannot_change_the_products_or_brand_other_messages_share(store, tmp_path, payload):
    c = ctx(products=[{"product_id": "p1", "name": "Rye", "price": 2, "url": "https://shop.example.com/rye"}])
    with pytest.raises(TemplateRenderError, match="blocked by the sandbox: access to attribute .* is unsafe"):
        render_file(_snippet(tmp_path, payload), c, store=store)
    again = store.render("welcome", ctx(products=[{"product_id": "p1", "name": "Rye", "price": 2,
                                                    "url": "https://shop.example.com/rye"}]), channel="email", locale="en")
    assert "Rye" in again.html and "changed" not in again.html and "Polku Shop" in again.html


def test_small_loops_and_formatting_still_work(store, tmp_path):
    out = render_snippet(store, tmp_path, "{% for i in range(3) %}{{ i }}{% endfor %}|{{ '%05.1f' % 3.14159 }}|{{ 'ab' * 2 }}"
                         "|{{ '{:>4}{x}'.format(1, x='<') }}|{{ '{a:_^5}'.format_map({'a': 'b'}) }}|{{ ('<i>{}</i>'|safe).format('<') }}")
    assert "012|003.1|abab|   1&lt;|__b__|<i>&lt;</i>" in out.html
    assert "012|003.1|abab|   1<|__b__|<i>&lt;</i>" in out.text


def test_html_in_profile_fields_is_escaped_in_html_and_kept_in_text(store):
    c = ctx(customer={"first_name": "<script>alert(1)</script>", "email": "x@example.com"},
            products=[{"product_id": "p", "name": 'Tea "<b>"', "price": 1, "url": "https://shop.example.com/t"}])
    out = store.render("welcome", c, channel="email", locale="en")
    assert "<script>" not in out.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "Tea &#34;&lt;b&gt;&#34;" in out.html
    assert "<script>alert(1)</script>" in out.text  # plain text is not HTML
    assert out.subject == "Welcome to Polku Shop, <script>alert(1)</script>!"


def test_unsafe_product_urls_are_dropped(store):
    c = ctx(products=[{"product_id": "p", "name": "X", "price": 1, "url": "javascript:alert(1)", "image_url": "data:x"}])
    out = store.render("welcome", c, channel="email", locale="en")
    assert "javascript:" not in out.html and "data:x" not in out.html


def test_control_characters_cannot_forge_sections_or_headers(store):
    c = ctx(customer={"first_name": "Ann\x1fEvil\r\nBcc: x@evil.test", "email": "a@example.com"})
    out = store.render("welcome", c, channel="email", locale="en")
    assert "\n" not in out.subject and "\r" not in out.subject
    assert out.subject.startswith("Welcome to Polku Shop, AnnEvil")


def test_editable_block_override_is_escaped_text(store):
    c = ctx()
    c["editable_overrides"] = {"intro": "Tervetuloa <img src=x onerror=alert(1)> myymälään!"}
    out = store.render("welcome", c, channel="email", locale="en")
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.html and "<img src=x" not in out.html
    default = store.render("welcome", ctx(), channel="email", locale="en")
    assert "thank you for joining" in default.html


def test_missing_variable_names_variable_and_template(store, tmp_path):
    with pytest.raises(TemplateRenderError) as err:
        render_snippet(store, tmp_path, "line one\n{{ customer.nickname }}")
    msg = str(err.value)
    assert "nickname" in msg and "undefined" in msg and err.value.variable == "nickname"
    with pytest.raises(TemplateRenderError) as err:
        render_snippet(store, tmp_path, "{{ coupon_code }}")
    assert err.value.variable == "coupon_code"


@pytest.mark.parametrize(
    "asked, expected",
    [("fi", "fi"), ("fi-FI", "fi"), ("fi_FI", "fi"), ("cs", "cs"), ("en-GB", "en"), ("de", "en"), (None, "en"),
     ("../../etc", "en")],  # path-ok: a traversal the store must refuse
)
def test_locale_fallback(store, asked, expected):
    out = store.render("welcome", ctx(), channel="email", locale=asked)
    assert out.locale == expected


def test_locale_chain():
    assert locale_chain("fi-FI") == ["fi-fi", "fi", "en"]
    assert locale_chain(None) == ["en"]


def test_channels_a_template_supports(store):
    assert store.channels("welcome") == ["email", "sms", "push"]
    assert store.channels("order_confirmation") == ["email"]
    with pytest.raises(TemplateRenderError, match="does not support channel 'sms'"):
        store.render("order_confirmation", ctx(data={"order_id": "1", "order_items": [], "total": 0}), channel="sms")


def test_unknown_or_malicious_template_names_are_refused(store):
    for name in ("nope", "../_layouts/brand", "WELCOME"):  # path-ok: names the store must refuse
        with pytest.raises(TemplateRenderError):
            store.render(name, ctx(), channel="email")


def test_products_render_with_fallback_when_missing(store):
    out = store.render("welcome", ctx(products=[]), channel="email", locale="en")
    assert 'class="fallback"' in out.html and "product-name" not in out.html
    out = store.render("welcome", ctx(), channel="email", locale="fi")
    assert "Rye bread" in out.html and "3,50" in out.html


def test_sms_and_push_are_plain_text(store):
    c = ctx(customer={"first_name": "Åsa & <Bo>", "email": "a@example.com"})
    sms = store.render("welcome", c, channel="sms", locale="en").parts["sms"]
    assert "Åsa & <Bo>" in sms and "STOP" in sms
    push = store.render("welcome", c, channel="push", locale="en").parts
    assert push["push_title"] and "Åsa & <Bo>" in push["push_body"]


def test_every_shipped_template_renders_every_channel_it_supports(store):
    from polku.messaging.templating import iter_template_paths

    c = ctx(offer={"title": "10 % off", "code": "X1", "expires_at": "2026-03-01"},
            data={"order_id": "o-1", "order_items": [{"name": "Tea", "price": 2}], "total": 2, "cart_items": []})
    seen = 0
    for name, loc, _ in iter_template_paths(store):
        for channel in store.channels(name, loc):
            out = store.render(name, c, channel=channel, locale=loc)
            assert out.locale == loc
            seen += 1
    assert seen >= 20


@pytest.mark.parametrize("html", [True, False])
@pytest.mark.parametrize("call", [
    "m(1)", "m(1, 2)", "m(1, 2, 3)", "m(1, c=5)", "m(a=1)", "m(1, b=2, c=3)", "m(1, 2, 3, 4)", "m(1, d=4)",
    "m(1, a=2)", "m()", "n()", "n(1)", "v(1, 2, 3)", "k(1, x=2)", "s('<b>')",
    "m(1, caller=none_)",
])
def test_macro_calls_behave_as_in_plain_jinja(html, call):
    """The sandbox's quick macro call gives what Jinja's Macro.__call__ gives, errors included."""
    from jinja2 import DictLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    from polku.messaging.templating import PolkuSandbox

    source = (
        "{% macro m(a, b=None, c='<c>') %}[{{ a }}|{{ b }}|{{ c }}]{% endmacro %}"
        "{% macro n() %}<n>{% endmacro %}"
        "{% macro v(a) %}{{ a }}{{ varargs }}{% endmacro %}"
        "{% macro k(a) %}{{ a }}{{ kwargs }}{% endmacro %}"
        "{% macro s(x) %}{{ x }}{% endmacro %}"
        "{% set none_ = None %}{{ " + call + " }}|{{ " + call + " }}"
    )
    results = []
    for env in (PolkuSandbox(DictLoader({"t": source}), html=html),
                SandboxedEnvironment(loader=DictLoader({"t": source}), autoescape=html, undefined=StrictUndefined)):
        try:
            results.append(("ok", env.get_template("t").render()))
        except Exception as exc:  # noqa: BLE001 - the same error is the point
            results.append((type(exc).__name__, str(exc)))
    assert results[0] == results[1]


@pytest.mark.parametrize("locale, currency, value, money, date", [
    ("en", "EUR", 1234567.891, "€1,234,567.89", "1234567.891"),
    ("fi", "EUR", "2.5", "2,50\u00a0€", "2.5"),
    ("cs", "CZK", 0, "0,00\u00a0Kč", "0"),
    ("en", "SEK", -0.0, "SEK-0.00", "-0.0"),
    ("en", "GBP", "n/a", "n/a", "n/a"),
    ("fi", "EUR", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", "1.3.2026"),
    ("en", "USD", "2026-03-01", "2026-03-01", "1 Mar 2026"),
    ("en", "EUR", None, "", ""),
])
def test_money_and_date_filters(store, tmp_path, locale, currency, value, money, date):
    from jinja2 import DictLoader

    from polku.messaging.template_sandbox import PolkuSandbox

    env = PolkuSandbox(DictLoader({"t": "{{ v|money }}|{{ v|date }}"}), html=False)
    out = env.get_template("t").render(v=value, locale=locale, brand={"currency": currency})
    assert out == f"{money}|{date}"


def test_product_cards_of_unusual_products_render_like_plain_ones(store, tmp_path):
    """A product the card cache cannot key (nested values) takes the uncached path: same card."""
    plain = {"product_id": "1", "name": "Tea & <cakes>", "price": 2.5, "url": "https://shop.example.com/t"}
    nested = {**plain, "tags": ["a", "b"], "meta": {"x": 1}}
    body = "{{ product_list([p], heading='H') }}"
    for channel in ("email",):
        a = render_snippet(store, tmp_path, body.replace("[p]", "products"), channel=channel, products=[plain])
        b = render_snippet(store, tmp_path, body.replace("[p]", "products"), channel=channel, products=[nested])
        assert a.html == b.html and a.text == b.text
        assert "Tea &amp; &lt;cakes&gt;" in a.html and "Tea & <cakes>" in a.text


def test_product_cards_draw_from_the_loop_budget(store, tmp_path):
    # 10,000 iterations spent by the loops, one more by the first card
    body = "{% for i in range(1000) %}{% for j in range(9) %}{% endfor %}{% endfor %}{{ product_cards(products * 3, 3) }}"
    with pytest.raises(TemplateRenderError, match="loop iterations"):
        render_snippet(store, tmp_path, body)


def test_a_card_template_error_names_the_card_template(store, tmp_path):
    body = "{{ product_cards([{'url': 'https://a.example.com/'}]) }}"  # no name: the card needs it
    with pytest.raises(TemplateRenderError, match="product_card.j2"):
        render_snippet(store, tmp_path, body)


def test_tidying_a_part_is_what_the_regular_expressions_did():
    from polku.messaging.templating import _BLANK_LINES, _SPACES, _tidy

    rng = random.Random(5)
    alphabet = ["a", "b", " ", "\t", "\n", "\n", "\r", "\x0b", "\x1f", "\u00a0", "\u2003", "\u3000", "é"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        assert _tidy("text", text) == _BLANK_LINES.sub("\n\n", text).strip() + "\n", repr(text)
        assert _tidy("subject", text) == _SPACES.sub(" ", text).strip(), repr(text)
        assert _tidy("html", text) == text.strip() + "\n"


@pytest.mark.parametrize("card", [
    "{% if part == 'html' %}<i>{{ p.name }}</i>{% else %}{{ p.name }}{% endif %}",  # no link
    "{% if part == 'html' %}<a href=\"{{ link }}\">{{ p.name }}</a> <a href=\"{{ link }}\">again</a>"
    "{% else %}{{ link }} {{ p.name }} {{ link }}{% endif %}",  # the link twice
])
def test_cards_with_no_link_or_the_link_twice_get_each_recipients_link_everywhere(tmp_path, card):
    root = tmp_path / "templates"
    shutil.copytree(Path(__file__).resolve().parents[2] / "templates", root)
    (root / "_blocks" / "product_card.j2").write_text(card, encoding="utf-8")
    store = TemplateStore(root)
    products = [{"product_id": str(i), "name": f"P{i} & co", "price": 1, "url": f"https://shop.example.com/p/{i}"}
                for i in range(3)]
    for who in ("ann", "bob", "ann"):  # the second ann comes from the card cache
        c = ctx(products=products, track=lambda url, who=who: f"{url}?r={who}&x=<1>")
        out = store.render("welcome", c, channel="email", locale="en")
        for i in range(3 if "link" in card else 0):
            link = f"https://shop.example.com/p/{i}?r={who}&x=<1>"
            link_html = link.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert f'<a href="{link_html}">P{i} &amp; co</a> <a href="{link_html}">again</a>' in out.html
            assert f"{link} P{i} & co {link}" in out.text
        if "link" not in card:
            assert "<i>P0 &amp; co</i><i>P1 &amp; co</i><i>P2 &amp; co</i></tr>" in out.html
            assert "P0 & coP1 & coP2 & co" in out.text
