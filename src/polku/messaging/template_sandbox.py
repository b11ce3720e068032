"""The sandbox every Polku template runs in: Jinja's ``SandboxedEnvironment`` with the
limits of :mod:`polku.messaging.template_limits` and Polku's filters and globals.

Jinja's sandbox makes the safety decisions (no ``__class__``/``__globals__``/``_private``
attribute, no unsafe ``str.format`` field access, only safe callables); this class only adds
limits on top, and never takes a path around the sandbox's own checks.
"""

from __future__ import annotations

from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any, Callable

from jinja2 import BaseLoader, StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from polku.messaging import template_filters
from polku.messaging.template_limits import (
    LimitedEscapeFormatter,
    LimitedFormatter,
    check_binop,
    check_value,
    guard_iter,
    limited_range,
    safe_format_filter,
    width_limited,
)

SEP = "\x1f"  # separates the sections one pass renders (never in data: control characters are stripped)
GUARD_FILTER = "_polku_guard_iter"


class PolkuSandbox(SandboxedEnvironment):
    """The sandbox every Polku template runs in (``html``: the autoescaped environment)."""

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
        self.globals["range"] = limited_range
        self.globals.pop("lipsum", None)
        self.globals["SEP"] = SEP
        self.globals["product_cards"] = template_filters.product_cards
        self.filters[GUARD_FILTER] = guard_iter
        self.filters["format"] = safe_format_filter
        self.filters["money"] = template_filters.money
        self.filters["date"] = template_filters.date
        for name, positions, names in (
            ("center", (1,), ("width",)),
            ("indent", (1,), ("width",)),
            ("wordwrap", (2,), ("width",)),
            ("truncate", (1,), ("length",)),
        ):
            self.filters[name] = width_limited(self.filters[name], *positions, names=names)

    def _generate(self, source: nodes.Template, name, filename, defer_init: bool = False):
        """Every for-loop's iterable goes through the iteration budget (:data:`GUARD_FILTER`).
        (Jinja has no public hook between parsing and code generation; this one has kept its
        signature since Jinja 2.)"""
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, GUARD_FILTER, [], [], None, None, lineno=loop.lineno)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return check_value(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``"...".format`` / ``format_map`` as the sandbox wraps them, with every field's
        width checked once its nested fields are filled in (``{:>{w}}``): Jinja's own
        wrapper would build a string of any width first."""
        f_self = getattr(value, "__self__", None)
        if not isinstance(value, (MethodType, BuiltinMethodType)) or not isinstance(f_self, str) or \
                value.__name__ not in ("format", "format_map"):
            return None
        is_format_map = value.__name__ == "format_map"
        formatter = LimitedEscapeFormatter(self, escape=f_self.escape) if isinstance(f_self, Markup) else LimitedFormatter(self)
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
