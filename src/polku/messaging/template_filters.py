"""The filters and globals Polku adds to its templates: ``money``, ``date`` and ``product_cards()``."""

from __future__ import annotations

import datetime as _dt
import weakref
from typing import Any

from jinja2 import Undefined, pass_context
from markupsafe import Markup, escape

from polku.locales import DEFAULT_LOCALE
from polku.messaging.message_context import ReadOnlyDict, flat_key
from polku.messaging.template_limits import take_iterations

CARD_TEMPLATE = "_blocks/product_card.j2"
_CURRENCY_SYMBOLS = {"EUR": "€", "CZK": "Kč", "USD": "$", "GBP": "£"}


def _blank(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or value == ""


@pass_context
def money(ctx, value: Any, currency: str | None = None) -> str:
    """``12.9|money`` -> ``€12.90`` (en) or ``12,90 €`` (fi, cs; CZK as ``Kč``); the currency
    is the argument, else the brand's, else EUR. A value that is not a number prints as it is."""
    if _blank(value):
        return ""
    brand = ctx.get("brand") or {}
    currency = currency or (brand.get("currency") if isinstance(brand, dict) else None) or "EUR"
    locale = ctx.get("locale") or DEFAULT_LOCALE
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    symbol = _CURRENCY_SYMBOLS.get(currency, currency)
    if str(locale)[:2] in ("fi", "cs"):
        number = f"{amount:,.2f}".replace(",", "\u00a0").replace(".", ",")
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{amount:,.2f}"


@pass_context
def date(ctx, value: Any) -> str:
    """An ISO date/time as a local-looking date: ``2026-03-01`` -> ``1.3.2026`` (fi, cs) or
    ``1 Mar 2026`` (en). A value that is not an ISO date prints as it is."""
    if _blank(value):
        return ""
    locale = ctx.get("locale") or DEFAULT_LOCALE
    try:
        d = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if str(locale)[:2] in ("fi", "cs"):
        return f"{d.day}.{d.month}.{d.year}"
    return f"{d.day} {d.strftime('%b')} {d.year}"


# Rendered product cards per environment: (part, locale, brand, product) -> the card's text
# around its links. See product_cards().
_CARDS: "weakref.WeakKeyDictionary[Any, dict[tuple, tuple[str, ...] | None]]" = weakref.WeakKeyDictionary()
CARD_CACHE_MAX = 10_000  # cards kept per environment; 0 turns the cache off (benchmarks/render.py measures both)
LINK_MARK = "\x1epolku-link\x1e"  # stands for a card's link; data cannot hold it (control characters are stripped)


def _content(value: Any) -> tuple | None:
    """A key equal only for products/brands that print the same (see message_context.flat_key)."""
    if type(value) is ReadOnlyDict:
        key = value._content_key()
        return None if key is None else (ReadOnlyDict, key)
    key = flat_key(value)
    return None if key is None else (dict, key)


@pass_context
def product_cards(ctx, items: Any, limit: int = 4) -> str:
    """``{{ product_cards(items, limit) }}``: one card per product, rendered from
    ``_blocks/product_card.j2`` in the same environment (sandbox, part, autoescape).

    A card sees ``p`` (the product), ``link`` (its tracked link, ``track(p.url)`` called as
    the template would call it), ``part``, ``locale``, ``brand`` and the globals. Each product
    draws from the loop budget like the ``for`` loop it stands for.

    The one rendering shortcut, kept because the stock sandboxed path is below the 5,000
    e-mails per CPU-second target: without it 1,670-1,720/s (plain Jinja2 1,940/s), with it
    2,300-2,470/s (benchmarks/render.py workload, 2026-12-04, Intel Xeon family 6 model 167,
    one core of a shared host). A card is a function of exactly what it sees, so
    each distinct (part, locale, brand, product) card is rendered once per environment with a
    mark where the link goes, and each recipient's link is put in (escaped in HTML, as
    ``{{ link }}`` is). On the first render of a key the card is also rendered with the real
    link; if the two differ (a card that changes its link, e.g. ``link|upper``), that key is
    never cached and the card is always rendered as it is.
    """
    env = ctx.environment
    template = env.get_template(CARD_TEMPLATE)
    track = ctx.resolve("track")
    shared = {"part": ctx.get("part"), "locale": ctx.get("locale"), "brand": ctx.get("brand")}
    html = ctx.eval_ctx.autoescape
    brand_key = _content(shared["brand"])
    cache = _CARDS.setdefault(env, {})
    cards: list[str] = []
    for p in items[:limit]:
        take_iterations()
        url = env.getattr(p, "url")
        link = env.call(ctx, track, url) if env.sandboxed else ctx.call(track, url)
        product_key = _content(p) if brand_key is not None and CARD_CACHE_MAX > 0 else None
        key = None if product_key is None else (shared["part"], shared["locale"], brand_key, product_key)
        pieces = cache.get(key, False) if key is not None else None
        link_text = str(escape(link) if html else link)
        if pieces:  # a card cached with its link marks
            cards.append(link_text.join(pieces))
            continue
        card = template.render({**shared, "p": p, "link": link})
        if pieces is False:  # a new key: cache the card if putting the link in gives the same card
            marked = tuple(template.render({**shared, "p": p, "link": LINK_MARK}).split(LINK_MARK))
            if len(cache) >= CARD_CACHE_MAX:
                cache.clear()
            cache[key] = marked if link_text.join(marked) == card else None
        cards.append(card)
    text = "".join(cards)
    return Markup(text) if html else text
