"""Rendering personal messages from Jinja2 templates, inside a sandbox.

A message template is one file per locale: ``templates/messages/<name>/<locale>.j2``.
It extends the brand layout (``templates/_layouts/brand.j2``) and fills the blocks
of each channel it supports::

    subject, preheader, html, text       e-mail
    sms                                  SMS
    push_title, push_body                mobile push

The same file is compiled by two sandboxed environments: one with HTML autoescape
(for the ``html`` part) and one without (subject, plain text, SMS, push: a name like
``O'Brien`` must not become ``O&#39;Brien`` in an SMS). The layout switches on the
variable ``part``: an e-mail takes two passes (``email_text`` yields subject, preheader
and text separated by :data:`SEP`; ``html``), SMS and push one each. Shared words per
locale come from ``templates/_locales/<locale>.json`` (global ``ui(locale)``).

Safety (templates are written by people, data comes from customers):

* ``SandboxedEnvironment``: no ``__class__``/``__globals__``/``_private`` attribute,
  no unsafe ``str.format`` field access.
* ``StrictUndefined``: a missing variable raises :class:`TemplateRenderError` naming
  the variable, the template and the line.
* Limits against denial of service: every ``for`` loop draws from one iteration
  budget per render (:data:`MAX_ITERATIONS`), ``range`` is capped, string/list
  repetition, powers and ``%``/``format`` widths are capped, and the output of one
  part is capped (:data:`MAX_OUTPUT_CHARS`).
* Customer data is only ever *data*: nothing a customer typed is compiled as a template.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache, partial, update_wrapper
from pathlib import Path
from types import BuiltinMethodType, FunctionType, MethodType
from typing import Any, Callable, Iterable, Iterator

from jinja2 import BaseLoader, FileSystemLoader, StrictUndefined, TemplateNotFound, Undefined, nodes, pass_context, pass_eval_context
from jinja2.runtime import BlockReference, Macro, TemplateReference, missing
from jinja2.runtime import new_context as _new_context
from jinja2.utils import _PassArg
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from markupsafe import Markup, escape

from polku.messaging import flatten as flattening
from polku.messaging.message_context import DICT_ATTRIBUTES, ReadOnlyDict, flat_key

MAX_ITERATIONS = 10_000  # loop iterations per rendered part
MAX_RANGE = 1_000
MAX_SEQUENCE = 100_000  # characters / items produced by *, %, format
MAX_POWER = 10**12
MAX_WIDTH = 1_000  # widths in format specs, center/indent/wordwrap/truncate
MAX_OUTPUT_CHARS = 512 * 1024
EDITABLE_MAX_CHARS = 2_000

EMAIL_PARTS = ("subject", "preheader", "html", "text")
SMS_PARTS = ("sms",)
PUSH_PARTS = ("push_title", "push_body")
CHANNEL_PARTS = {"email": EMAIL_PARTS, "sms": SMS_PARTS, "push": PUSH_PARTS}
# The block that must be present (non-empty) for a template to support a channel.
CHANNEL_MARKER = {"email": "html", "sms": "sms", "push": "push_body"}
DEFAULT_LOCALE = "en"
SEP = "\x1f"  # separates the sections one pass renders (never in data: control characters are stripped)
# Render passes per channel: (value of `part`, environment, the sections it yields).
PASSES = {
    "email": (("email_text", "text", ("subject", "preheader", "text")), ("html", "html", ("html",))),
    "sms": (("sms", "text", ("sms",)),),
    "push": (("push", "text", ("push_title", "push_body")),),
}
_BLANK_LINES = re.compile(r"\n[ \t]*(\n[ \t]*)+\n")
_SPACES = re.compile(r"\s+")


def _tidy(name: str, text: str) -> str:
    if name in _ONE_LINE:
        # One line: no header injection, no stray breaks. What ``_SPACES.sub(" ", text).strip()``
        # gives (str.split() splits on the same whitespace as \s); a test compares the two.
        return " ".join(text.split())
    if name == "text":
        text = _BLANK_LINES.sub("\n\n", text)  # runs of blank lines become one
        return text.strip() + "\n"
    return text.strip() + "\n"


_ONE_LINE = frozenset({"subject", "preheader", "sms", "push_title", "push_body"})

_TEMPLATE_REFERENCE_ATTRIBUTES = frozenset(dir(TemplateReference))
_PASS_ARG_ONLY = {"jinja_pass_arg": None}.keys()

_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("polku_render_budget")
_WIDTH_IN_SPEC = re.compile(r"(\d{4,})")


class TemplateRenderError(Exception):
    """A template could not be rendered; the message names template, line and cause."""

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None, variable: str | None = None):
        super().__init__(message)
        self.template = template
        self.line = line
        self.variable = variable


class TemplateLimitError(SecurityError):
    """A template exceeded a resource limit (loop budget, sizes)."""


# ---------------------------------------------------------------- limits
def _take(n: int = 1) -> None:
    budget = _budget.get(None)
    if budget is None:
        return
    budget[0] -= n
    if budget[0] < 0:
        raise TemplateLimitError(f"the template ran more than {MAX_ITERATIONS} loop iterations")


def _guard_iter(iterable: Any) -> Iterator[Any]:
    for item in iterable:
        _take()
        yield item


def _limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimitError(f"range() is limited to {MAX_RANGE} items, got {len(rng)}")
    return rng


def _check_spec_widths(fmt: str) -> None:
    for m in _WIDTH_IN_SPEC.finditer(fmt):
        if int(m.group(1)) > MAX_WIDTH:
            raise TemplateLimitError(f"format widths are limited to {MAX_WIDTH}")


def _size(value: Any) -> int | None:
    try:
        return len(value)
    except TypeError:
        return None


def _safe_format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    if args and kwargs:
        raise TemplateLimitError("format: use positional or keyword arguments, not both")
    fmt = str(value)
    _check_spec_widths(fmt)
    result = fmt % (kwargs or args)
    return Markup(result) if isinstance(value, Markup) else result


def _width_limited(filter_func: Callable, *positions: int, names: tuple[str, ...] = ()) -> Callable:
    def wrapper(*args: Any, **kwargs: Any):
        for pos in positions:
            if len(args) > pos and isinstance(args[pos], int) and args[pos] > MAX_WIDTH:
                raise TemplateLimitError(f"{filter_func.__name__}: width is limited to {MAX_WIDTH}")
        for name in names:
            if isinstance(kwargs.get(name), int) and kwargs[name] > MAX_WIDTH:
                raise TemplateLimitError(f"{filter_func.__name__}: {name} is limited to {MAX_WIDTH}")
        return filter_func(*args, **kwargs)

    wrapper.__name__ = filter_func.__name__
    for attr in ("jinja_pass_arg",):
        if hasattr(filter_func, attr):
            setattr(wrapper, attr, getattr(filter_func, attr))
    return wrapper


@pass_context
def _money(ctx, value: Any, currency: str | None = None) -> str:
    """``12.9|money`` -> ``€12.90`` (en) or ``12,90 €`` (fi, cs; CZK as ``Kč``)."""
    if value is None or isinstance(value, Undefined) or value == "":
        return ""
    brand = ctx.get("brand") or {}
    currency = currency or (brand.get("currency") if isinstance(brand, dict) else None) or "EUR"
    locale = ctx.get("locale") or DEFAULT_LOCALE
    kind = type(value)
    # The same amount, currency and locale always read the same: format each once. Only for
    # types whose equal values format alike (the type is part of the key: 1 == 1.0 == True,
    # "1" is not a number); not float zero (0.0 == -0.0 but they print differently).
    if kind in _MONEY_CACHED and not (kind is float and value == 0):
        try:
            return _money_text(kind, value, currency, locale)
        except TypeError:  # an unhashable currency
            pass
    return _money_text.__wrapped__(kind, value, currency, locale)


_MONEY_CACHED = frozenset({int, float, bool, str, Decimal})


@lru_cache(maxsize=4096)
def _money_text(kind: type, value: Any, currency: Any, locale: Any) -> str:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    symbol = {"EUR": "€", "CZK": "Kč", "USD": "$", "GBP": "£"}.get(currency, currency)
    if str(locale)[:2] in ("fi", "cs"):
        number = f"{amount:,.2f}".replace(",", "\u00a0").replace(".", ",")
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{amount:,.2f}"


@pass_context
def _date(ctx, value: Any) -> str:
    """An ISO date/time as a local-looking date: ``2026-03-01`` -> ``1.3.2026`` (fi, cs) or ``1 Mar 2026`` (en)."""
    if value is None or isinstance(value, Undefined) or value == "":
        return ""
    locale = ctx.get("locale") or DEFAULT_LOCALE
    if type(value) is str:  # each distinct date string and locale is formatted once
        try:
            return _date_text(str, value, locale)
        except TypeError:  # an unhashable locale
            pass
    return _date_text.__wrapped__(type(value), value, locale)


@lru_cache(maxsize=4096)
def _date_text(kind: type, value: Any, locale: Any) -> str:
    import datetime as _dt

    try:
        d = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if str(locale)[:2] in ("fi", "cs"):
        return f"{d.day}.{d.month}.{d.year}"
    return f"{d.day} {d.strftime('%b')} {d.year}"


# ---------------------------------------------------------------- escaping
try:  # the C function markupsafe.escape() itself calls for a plain str
    from markupsafe import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - another markupsafe: use escape() as it is
    _escape_str = None
_new_str = str.__new__


def _fast_escape(s: Any) -> Markup:
    """``markupsafe.escape`` with its two commonest cases made direct: a plain ``str``
    (escaped by the same C function, wrapped as Markup without ``Markup.__new__``'s
    Python frame) and a ``Markup`` (already safe: it is its own escape). Compiled
    templates use it for every ``{{ ... }}`` of the HTML part; a test compares it with
    ``markupsafe.escape`` on all kinds of values."""
    kind = type(s)
    if kind is str and _escape_str is not None:
        return _new_str(Markup, _escape_str(s))
    if kind is Markup:
        return s
    return escape(s)


# ---------------------------------------------------------------- product cards
CARD_TEMPLATE = "_blocks/product_card.j2"
LINK_MARK = "\x1epolku-link\x1e"  # stands for a card's tracked link; data cannot hold it (control characters are stripped)
FRAGMENT_CACHE_MAX = 10_000


@pass_context
def _product_cards(ctx, items: Any, limit: int = 4) -> str:
    """``{{ product_cards(items, limit) }}``: one card per product, rendered from
    ``_blocks/product_card.j2`` in the same sandbox and part.

    A card sees only ``p``, ``link``, ``part``, ``locale``, ``brand`` and the globals, so
    it is a function of exactly those: each distinct (product, part, locale, brand) is
    rendered once per process and kept; the card's link -- signed for this recipient --
    is put in afterwards (escaped in HTML, as ``{{ track(p.url) }}`` would be). Each
    product draws from the loop budget like the ``for`` loop it replaces.
    """
    env: PolkuSandbox = ctx.environment
    # what ctx.get() answers (None for a missing name), read from the context's two dicts
    # as resolve_or_missing does: the template's own variables first, then the render's
    own, parent = ctx.vars, ctx.parent
    part = own["part"] if "part" in own else parent.get("part")
    locale = own["locale"] if "locale" in own else parent.get("locale")
    brand = own["brand"] if "brand" in own else parent.get("brand")
    track = own["track"] if "track" in own else parent.get("track")
    html = bool(env.autoescape)
    # Call track() the way a template would: a plain function with no attributes is called
    # as it is (what the sandbox and Context.call do for it); anything else goes through the
    # sandbox's checks (or, in a plain Jinja environment such as the benchmark's baseline,
    # through the context).
    if type(track) is FunctionType and not track.__dict__:
        call = None
    else:
        call = partial(env.call, ctx) if env.sandboxed else ctx.call
    # The card cache's key: a read-only brand or product by its content number, anything
    # else by its flat_key (tagged, so the two kinds never meet).
    if type(brand) is ReadOnlyDict:
        brand_key = brand._content_key()
    else:
        brand_key = flat_key(brand)
        brand_key = None if brand_key is None else (dict, brand_key)
    cache = env.fragments
    budget = _budget.get(None)
    out: list[str] = []
    for p in items[:limit]:
        if budget is not None:  # each product draws from the loop budget, as the for loop did
            budget[0] -= 1
            if budget[0] < 0:
                raise TemplateLimitError(f"the template ran more than {MAX_ITERATIONS} loop iterations")
        read_only = type(p) is ReadOnlyDict
        url = p["url"] if read_only and "url" in p else env.getattr(p, "url")  # what getattr answers
        link = None
        if html:  # the order the template used: the link first in HTML, last in text
            link = _call_track(env, call, track, url)
        if brand_key is None:
            key = None
        elif read_only:
            pk = p._content_key()
            key = None if pk is None else (part, locale, brand_key, pk)
        else:
            pk = flat_key(p)
            key = None if pk is None else (part, locale, brand_key, (dict, pk))
        card = cache.get(key) if key is not None else None
        if card is None:
            template = env.get_template(CARD_TEMPLATE)
            text = "".join(template.root_render_func(template.new_context(
                {"p": dict(p) if type(p) is dict else p, "link": LINK_MARK, "part": part, "locale": locale, "brand": brand})))
            card = tuple(text.split(LINK_MARK))  # the card's text around its links
            if key is not None:
                if len(cache) >= FRAGMENT_CACHE_MAX:
                    cache.clear()
                cache[key] = card
        if link is None:
            link = _call_track(env, call, track, url)
        link = _fast_escape(link) if html else str(link)
        if len(card) == 2:  # one link: what card.replace(LINK_MARK, link) gives
            out.append(card[0])
            out.append(link)
            out.append(card[1])
        else:  # no link or several: str.join, not Markup.join (which would escape the card's own text)
            out.append(str.join(link, card))
    return _new_str(Markup, "".join(out)) if html else "".join(out)


def _use_fast_escape(template: Any) -> None:
    """Every function of a compiled template (root, blocks, macros) shares one module
    namespace: give them the quicker, equivalent escape()."""
    namespace = template.root_render_func.__globals__
    if namespace.get("escape") is escape:
        namespace["escape"] = _fast_escape


def _call_track(env: Any, call: Callable | None, track: Any, url: Any) -> Any:
    if call is not None:
        return call(track, url)
    try:  # _call_as_is for one positional argument
        return track(url)
    except StopIteration:
        return env.undefined(_STOPPED)


_STOPPED = "value was undefined because a callable raised a StopIteration exception"


def _call_as_is(env: Any, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call ``fn`` as ``Context.call`` does for a plain callable: Jinja's private keywords
    dropped, a StopIteration turned into an undefined value."""
    kwargs.pop("_block_vars", None)
    kwargs.pop("_loop_vars", None)
    try:
        return fn(*args, **kwargs)
    except StopIteration:
        return env.undefined(_STOPPED)


class _WidthLimited:
    """A formatter refusing field widths over :data:`MAX_WIDTH` (checked per field, after
    nested fields are filled in)."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_spec_widths(format_spec)
        return super().format_field(value, format_spec)


class _LimitedFormatter(_WidthLimited, SandboxedFormatter):
    """The sandbox's ``str.format`` formatter, width-limited."""


class _LimitedEscapeFormatter(_WidthLimited, SandboxedEscapeFormatter):
    """The same for ``Markup.format`` (arguments escaped)."""


class PolkuSandbox(SandboxedEnvironment):
    """The sandbox every Polku template runs in."""

    intercepted_binops = frozenset(["*", "**", "%"])

    def __init__(self, loader: BaseLoader, *, html: bool):
        super().__init__(
            loader=loader,
            autoescape=html,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=800,
        )
        self.globals["range"] = _limited_range
        self.globals.pop("lipsum", None)
        self.globals["SEP"] = SEP
        self.globals["product_cards"] = _product_cards
        self.fragments: dict[tuple, str] = {}  # rendered product cards (see _product_cards)
        self._templates: dict[str, Any] = {}  # compiled templates by name (auto_reload is off)
        self.filters["_polku_guard_iter"] = _guard_iter
        self.filters[flattening.WHOLE_FILTER] = flattening.whole
        self.filters["format"] = _safe_format_filter
        self.filters["money"] = _money
        self.filters["date"] = _date
        for name, positions, names in (
            ("center", (1,), ("width",)),
            ("indent", (1,), ("width",)),
            ("wordwrap", (2,), ("width",)),
            ("truncate", (1,), ("length",)),
        ):
            self.filters[name] = _width_limited(self.filters[name], *positions, names=names)

    # Every for-loop's iterable goes through the budget filter.
    def _generate(self, source: nodes.Template, name, filename, defer_init: bool = False):
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_polku_guard_iter", [], [], None, None, lineno=loop.lineno)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(n, int) and size * n > MAX_SEQUENCE:
                    raise TemplateLimitError(f"repetition is limited to {MAX_SEQUENCE} items")
        elif operator == "**":
            if isinstance(left, (int, float)) and isinstance(right, (int, float)):
                if abs(right) > 64 or (abs(left) > 1 and abs(right) * max(1, len(str(int(abs(left))))) > 12):
                    raise TemplateLimitError(f"powers are limited to {MAX_POWER}")
        elif operator == "%" and isinstance(left, str):
            _check_spec_widths(left)
        result = super().call_binop(context, operator, left, right)
        size = _size(result) if isinstance(result, (str, list, tuple)) else None
        if size is not None and size > MAX_SEQUENCE:
            raise TemplateLimitError(f"a value of {size} items exceeds the limit of {MAX_SEQUENCE}")
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``"...".format`` / ``format_map`` as the sandbox wraps them, with every field's
        width checked once its nested fields are filled in (``{:>{w}}``): Jinja's own
        wrapper would build a string of any width first."""
        f_self = getattr(value, "__self__", None)
        if not isinstance(value, (MethodType, BuiltinMethodType)) or not isinstance(f_self, str) or \
                value.__name__ not in ("format", "format_map"):
            return None
        is_format_map = value.__name__ == "format_map"
        formatter = _LimitedEscapeFormatter(self, escape=f_self.escape) if isinstance(f_self, Markup) else _LimitedFormatter(self)
        str_type = type(f_self)

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs, args = args[0], ()
            return str_type(formatter.vformat(f_self, args, kwargs))

        return update_wrapper(wrapper, value)

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Calls from templates, with direct paths for the common safe cases: a macro
        (template code, what ``Context.call`` does for a ``Macro``), a block, and a plain
        function or method with no attributes -- the sandbox's check looks only at the
        ``unsafe_callable``/``alters_data`` attributes, and str.format methods reach a
        template already wrapped by the sandbox's getattr. Everything else takes the
        sandbox's checked path."""
        kind = type(__obj)
        if kind is Macro:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                if (not __obj.caller and not __obj.catch_kwargs and not __obj.catch_varargs and not __obj.explicit_caller
                        and len(args) <= __obj._argument_count and not __self.is_async):
                    # What Macro.__call__ + _invoke do for plain arguments: fill the missing
                    # ones from keywords or `missing` (the macro applies its defaults), call,
                    # mark the result safe in an autoescaped part.
                    if kwargs or len(args) < __obj._argument_count:
                        rest = __obj.arguments[len(args):]
                        if not kwargs.keys() <= set(rest):
                            return __obj.__call__(__context.eval_ctx, *args, **kwargs)  # its own error
                        args = (*args, *[kwargs.get(name, missing) for name in rest])
                    rv = __obj._func(*args)
                    if __context.eval_ctx.autoescape:
                        return _new_str(Markup, rv) if type(rv) is str else Markup(rv)
                    return rv
                return __obj.__call__(__context.eval_ctx, *args, **kwargs)
            except StopIteration:
                return __self.undefined(_STOPPED)
        # A plain function or method with no attributes at all (so neither marked unsafe
        # nor asking for a context, e.g. track(), ui()): Context.call would call it as is.
        # A block of this template (``self.subject()``): Context.call would call it as is.
        if (kind is FunctionType and not __obj.__dict__) or kind is BlockReference or (
                kind is MethodType and type(__obj.__func__) is FunctionType and not __obj.__func__.__dict__):
            return _call_as_is(__self, __obj, args, kwargs)
        # A function whose only attribute asks for the context or eval context (our filters
        # and globals, e.g. product_cards(), editable()): what Context.call does for it.
        if kind is FunctionType and __obj.__dict__.keys() == _PASS_ARG_ONLY:
            pass_arg = __obj.__dict__["jinja_pass_arg"]
            if pass_arg is _PassArg.context:
                if kwargs.get("_loop_vars"):
                    __context = __context.derived(kwargs["_loop_vars"])
                if kwargs.get("_block_vars"):
                    __context = __context.derived(kwargs["_block_vars"])
                args = (__context, *args)
            elif pass_arg is _PassArg.eval_context:
                args = (__context.eval_ctx, *args)
            elif pass_arg is _PassArg.environment:
                args = (__context.environment, *args)
            else:
                return super().call(__context, __obj, *args, **kwargs)
            return _call_as_is(__self, __obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def make_globals(self, d: Any) -> dict:
        """A template's globals as one plain dict (Jinja's ChainMap is iterated twice per
        render, key by key, in Python). Polku sets every global before the first template
        loads (as Jinja asks: "avoid modifying any globals after a template is loaded")."""
        return {**self.globals, **(d or {})}

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:
        """Compiled templates by name, from a plain dict: templates do not change while a
        process runs (auto_reload is off), so skip the loader cache's locking and checks."""
        if globals is None and type(name) is str:
            if parent is not None:
                name = self.join_path(name, parent)
            template = self._templates.get(name)
            if template is None:
                template = super().get_template(name)
                _use_fast_escape(template)
                self._templates[name] = template
            return template
        return super().get_template(name, parent, globals)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``p.name`` on a plain dict: the item, straight away.

        Jinja first tries ``getattr(dict, "name")``, which for a name that is not an
        attribute of ``dict`` raises AttributeError and only then looks up the item. For
        such a name the answer is always the item (or undefined), so look it up directly;
        names that *are* attributes of ``dict`` (``items``, ``__class__``, ...) take the
        sandbox's own path with its safety checks. Same result, without an exception per
        lookup (messages read product and customer fields dozens of times).
        """
        kind = type(obj)
        if (kind is dict or kind is ReadOnlyDict) and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        # ``self.subject``: the same reasoning for the template reference and its blocks.
        if kind is TemplateReference and attribute not in _TEMPLATE_REFERENCE_ATTRIBUTES and attribute[:1] != "_":
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


# ---------------------------------------------------------------- editable blocks
def make_editable(overrides: dict[str, str] | None) -> Callable:
    """``{% call editable("intro") %}default{% endcall %}``: the default text unless
    this recipient has an override (plain text from distributed marketing; escaped in HTML)."""
    overrides = dict(overrides or {})

    @pass_eval_context
    def editable(eval_ctx, name: str, caller: Callable | None = None) -> Any:
        value = overrides.get(name)
        if value is not None:
            text = str(value)[:EDITABLE_MAX_CHARS]
            # A call block's result is written unescaped, so escape here (HTML part only).
            return escape(text) if eval_ctx.autoescape else text
        if caller is None:
            return ""
        if type(caller) is Macro and not (caller.arguments or caller.catch_kwargs or caller.catch_varargs or caller.caller
                                          or caller._environment.is_async):
            # What Macro.__call__ does for a call block's body called with no arguments: run
            # it, mark the result safe if the macro was made in an autoescaped part.
            rv = caller._func()
            return (_new_str(Markup, rv) if type(rv) is str else Markup(rv)) if caller._default_autoescape else rv
        return caller()

    return editable


_NO_OVERRIDES = make_editable(None)  # the same for every message without overrides (it keeps no state)


# ---------------------------------------------------------------- rendering
@dataclass
class RenderedMessage:
    template: str  # message name, e.g. "welcome"
    locale: str  # the locale actually used (after fallback)
    channel: str
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return self.parts.get("subject", "")

    @property
    def html(self) -> str:
        return self.parts.get("html", "")

    @property
    def text(self) -> str:
        return self.parts.get("text", "")


def locale_chain(locale: str | None, default: str = DEFAULT_LOCALE) -> list[str]:
    """``"fi-FI"`` -> ``["fi-fi", "fi", "en"]`` (no duplicates)."""
    return list(_locale_chain(locale, default))


@lru_cache(maxsize=256)
def _locale_chain(locale: str | None, default: str) -> tuple[str, ...]:
    chain: list[str] = []
    if locale:
        loc = locale.strip().replace("_", "-").lower()
        if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", loc):
            chain.append(loc)
            if "-" in loc:
                chain.append(loc.split("-", 1)[0])
    chain.append(default)
    return tuple(dict.fromkeys(chain))


def _error_line(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line the error happened at (Jinja rewrites tracebacks)."""
    name = line = None
    tb = exc.__traceback__
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname.endswith(".j2"):
            name, line = fname, tb.tb_lineno
        tb = tb.tb_next
    return name, line


_UNDEFINED_NAME = re.compile(r"'([^']+)' (?:is undefined|has no attribute '([^']+)')")


class TemplateStore:
    """Finds and renders message templates from one folder (the ``templates/`` tree)."""

    def __init__(self, root: Path | str, *, flatten: bool = True):
        self.root = Path(root).resolve()
        self.flatten = flatten  # render flattened templates where possible (same output; quicker)
        self._flat: dict[tuple, Any] = {}
        self.flat_fallbacks = 0  # flattened renders that raised and were rendered again by Jinja
        self._words_of: dict[str, dict] = {}  # ui(locale) per locale (the words do not change)
        if not (self.root / "_layouts").is_dir():
            raise FileNotFoundError(f"{self.root} is not a Polku templates folder (no _layouts/)")
        loader = FileSystemLoader(str(self.root))
        self.html_env = PolkuSandbox(loader, html=True)
        self.text_env = PolkuSandbox(loader, html=False)
        self._channels: dict[str, list[str]] = {}
        self._resolved: dict[tuple, tuple[str, str]] = {}  # templates are immutable for a process
        self.words = load_words(self.root / "_locales")
        for env in (self.html_env, self.text_env):
            env.globals["ui"] = self.ui

    def ui(self, locale: str | None) -> dict:
        """The shared words of ``locale`` (``templates/_locales/<locale>.json``, missing ones from en)."""
        for loc in _locale_chain(locale, DEFAULT_LOCALE):
            if loc in self.words:
                return self.words[loc]
        return {}

    # -- discovery --------------------------------------------------------
    def message_names(self) -> list[str]:
        base = self.root / "messages"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def locales(self, name: str) -> list[str]:
        folder = self.root / "messages" / name
        return sorted(p.stem for p in folder.glob("*.j2")) if folder.is_dir() else []

    def resolve(self, name: str, locale: str | None) -> tuple[str, str]:
        """(template path inside the store, locale used) with fallback to the default locale."""
        key = (name, locale)
        hit = self._resolved.get(key)
        if hit is None:
            hit = self._resolve(name, locale)
            if len(self._resolved) < 10_000:
                self._resolved[key] = hit
        return hit

    def _resolve(self, name: str, locale: str | None) -> tuple[str, str]:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", name or ""):
            raise TemplateRenderError(f"template name {name!r} is not valid (lower-case letters, digits, _ and -)")
        for loc in locale_chain(locale):
            path = f"messages/{name}/{loc}.j2"
            if (self.root / path).is_file():
                return path, loc
        raise TemplateRenderError(f"template {name!r} has no locale in {locale_chain(locale)}", template=name)

    def channels(self, name: str, locale: str | None = None) -> list[str]:
        """Channels the template supports (it defines the channel's marker block)."""
        path, _ = self.resolve(name, locale)
        return self.channels_of_path(path)

    def channels_of_path(self, path: str) -> list[str]:
        cached = self._channels.get(path)
        if cached is None:
            cached = self._channels[path] = self._find_channels(path)
        return cached

    def _find_channels(self, path: str) -> list[str]:
        source, _, _ = self.html_env.loader.get_source(self.html_env, path)
        ast = self.html_env.parse(source)
        blocks = {b.name for b in ast.find_all(nodes.Block) if b.body}
        return [ch for ch, marker in CHANNEL_MARKER.items() if marker in blocks]

    # -- rendering --------------------------------------------------------
    def render(self, name: str, context: dict, *, channel: str = "email", locale: str | None = None) -> RenderedMessage:
        path, used = self.resolve(name, locale)
        return self.render_path(path, context, channel=channel, template_name=name, locale=used)

    def render_path(
        self, path: str, context: dict, *, channel: str = "email", template_name: str | None = None, locale: str = DEFAULT_LOCALE
    ) -> RenderedMessage:
        if channel not in CHANNEL_PARTS:
            raise TemplateRenderError(f"channel must be one of {sorted(CHANNEL_PARTS)}, got {channel!r}")
        out = RenderedMessage(template=template_name or path, locale=locale, channel=channel)
        try:
            supported = self.channels_of_path(path)
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(f"{exc.filename or path}:{exc.lineno}: syntax error: {exc.message}", template=path) from None
        if channel not in supported:
            raise TemplateRenderError(
                f"template {out.template!r} ({locale}) does not support channel {channel!r} "
                f"(it has no {CHANNEL_MARKER[channel]!r} block)",
                template=path,
            )
        ctx = dict(context)
        overrides = ctx.pop("editable_overrides", None)
        if "editable" not in ctx:
            ctx["editable"] = make_editable(overrides) if overrides else _NO_OVERRIDES
        ctx["channel"] = channel
        ctx["locale"] = locale
        known = None
        if self.flatten:  # what a flattened template may hold as constants (see flatten())
            brand = ctx.get("brand")
            number = brand._content_key() if type(brand) is ReadOnlyDict else None
            words = None
            if "ui" not in context:
                words = self._words_of.get(locale)
                if words is None:
                    words = self._words_of[locale] = self.ui(locale) or {}
                words = words or None
            known = (locale, number, brand if number is not None else None, words)
        for part, env, names in PASSES[channel]:
            text = self._render_part(env == "html" and self.html_env or self.text_env, path, ctx, part, known)
            pieces = text.split(SEP) if len(names) > 1 else [text]
            if len(pieces) != len(names):
                raise TemplateRenderError(f"{path}: part {part!r} did not produce {len(names)} sections", template=path)
            for name, piece in zip(names, pieces):
                out.parts[name] = _tidy(name, piece)
        return out

    def _flat_template(self, env: PolkuSandbox, path: str, part: str, known: tuple | None = None) -> Any:
        """The flattened template of ``path`` for ``part`` (see :mod:`polku.messaging.flatten`),
        None if it cannot be flattened; built once per environment, path, part and known
        values: (locale, brand content number, brand, words) -- the brand by its number."""
        if known is not None and known[3] is not None and env.globals.get("ui") != self.ui:
            known = (known[0], known[1], known[2], None)  # ui() is not the store's: t is not known
        key = (env, path, part) if known is None else (env, path, part, known[0], known[1], known[3] is not None)
        try:
            return self._flat[key]
        except KeyError:
            pass
        template = flattening.flatten(env, path, part, None if known is None else {
            "locale": known[0], "brand": known[2], "words": known[3]})
        if template is not None:
            _use_fast_escape(template)
        if len(self._flat) >= 4_096:
            self._flat.clear()
        self._flat[key] = template
        return template

    def _render_part(self, env: PolkuSandbox, path: str, ctx: dict, part: str, known: tuple | None = None) -> str:
        flat = self._flat_template(env, path, part, known) if self.flatten else None
        if flat is not None:
            token = _budget.set([MAX_ITERATIONS])
            try:
                # the render's variables over the template's globals, as Template.new_context
                # makes them, in one dict; a flattened part comes out as one string
                parent = {**flat.globals, **ctx}
                parent["part"] = part
                text = "".join(flat.root_render_func(_new_context(flat.environment, flat.name, flat.blocks, parent,
                                                                  True, flat.globals, None)))
                if len(text) > MAX_OUTPUT_CHARS:
                    raise TemplateLimitError(f"output is limited to {MAX_OUTPUT_CHARS} characters")
                return text
            except Exception:  # noqa: BLE001 - rendered again below, the ordinary way, whose
                self.flat_fallbacks += 1  # error names the file and line the author wrote
            finally:
                _budget.reset(token)
        token = _budget.set([MAX_ITERATIONS])
        try:
            template = env.get_template(path)
            try:
                return _generate(template, ctx, part)
            except Exception:
                env.handle_exception()  # re-raises with the template's file and line in the traceback
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(
                f"{exc.filename or exc.name or path}:{exc.lineno}: syntax error: {exc.message}", template=path, line=exc.lineno
            ) from None
        except UndefinedError as exc:
            where, line = _error_line(exc)
            m = _UNDEFINED_NAME.search(str(exc))
            variable = (m.group(2) or m.group(1)) if m else None
            raise TemplateRenderError(
                f"{_short(where or path, self.root)}:{line or '?'}: undefined variable "
                f"{variable!r} ({exc}) while rendering part {part!r}",
                template=path,
                line=line,
                variable=variable,
            ) from None
        except SecurityError as exc:
            where, line = _error_line(exc)
            raise TemplateRenderError(
                f"{_short(where or path, self.root)}:{line or '?'}: blocked by the sandbox: {exc}", template=path, line=line
            ) from None
        except TemplateNotFound as exc:
            raise TemplateRenderError(f"{path}: template {exc.name!r} not found", template=path) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError, KeyError, AttributeError) as exc:
            where, line = _error_line(exc)
            raise TemplateRenderError(
                f"{_short(where or path, self.root)}:{line or '?'}: {type(exc).__name__}: {exc}", template=path, line=line
            ) from None
        finally:
            _budget.reset(token)


def _generate(template: Any, ctx: dict, part: str) -> str:
    """The template's output for ``ctx`` and ``part`` (Template.generate() without its extra
    generator layer), limited to :data:`MAX_OUTPUT_CHARS`."""
    chunks: list[str] = []
    size = 0
    for chunk in template.root_render_func(template.new_context({**ctx, "part": part})):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateLimitError(f"output is limited to {MAX_OUTPUT_CHARS} characters")
        chunks.append(chunk)
    return "".join(chunks)


def load_words(folder: Path) -> dict[str, dict]:
    import json

    raw = {}
    for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(f.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{f}: must hold a JSON object of words")
        raw[f.stem.lower()] = {str(k): str(v) for k, v in data.items()}
    base = raw.get(DEFAULT_LOCALE, {})
    return {loc: {**base, **words} for loc, words in raw.items()}


def _short(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def render_file(path: Path | str, context: dict, *, channel: str = "email", store: TemplateStore) -> RenderedMessage:
    """Render a template file outside the store (preview). It runs in the same sandbox and
    may extend the store's layout and import its blocks."""
    path = Path(path).resolve()
    if not path.is_file():
        raise TemplateRenderError(f"{path}: no such template file")
    source = path.read_text(encoding="utf-8")
    from jinja2 import ChoiceLoader, FunctionLoader

    key = f"__preview__/{path.name}"
    filename = str(path) if path.name.endswith(".j2") else str(path) + ".j2"  # so errors point at it
    preview = TemplateStore.__new__(TemplateStore)
    preview.root = store.root
    own = FunctionLoader(lambda name: (source, filename, lambda: True) if name == key else None)
    loader = ChoiceLoader([own, FileSystemLoader(str(store.root))])
    preview.html_env = PolkuSandbox(loader, html=True)
    preview.text_env = PolkuSandbox(loader, html=False)
    preview._channels = {}
    preview._resolved = {}
    preview.flatten = store.flatten
    preview._flat = {}
    preview.flat_fallbacks = 0
    preview._words_of = {}
    preview.words = store.words
    for env in (preview.html_env, preview.text_env):
        env.globals["ui"] = preview.ui
    return preview.render_path(key, context, channel=channel, template_name=path.name)


def iter_template_paths(store: TemplateStore) -> Iterable[tuple[str, str, str]]:
    """(message name, locale, path) for every message template in the store."""
    for name in store.message_names():
        for loc in store.locales(name):
            yield name, loc, f"messages/{name}/{loc}.j2"
