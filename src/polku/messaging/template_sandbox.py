"""The sandbox every Polku template runs in: Jinja's ``ImmutableSandboxedEnvironment`` with
the limits of :mod:`polku.messaging.template_limits` and Polku's filters and globals.

Jinja's sandbox makes the safety decisions (no ``__class__``/``__globals__``/``_private``
attribute, no unsafe ``str.format`` field access, only safe callables); this class only adds
limits on top, and never takes a path around the sandbox's own checks.
"""

from __future__ import annotations

from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any, Callable

from jinja2 import BaseLoader, StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from polku.messaging import template_filters
from polku.messaging.template_limits import (
    LimitedEscapeFormatter,
    LimitedFormatter,
    bounded,
    charge,
    check_binop,
    enter_call,
    foresee_filter,
    foresee_str_method,
    guard_iter,
    leave_call,
    limited_range,
    measure,
    safe_format_filter,
    width_limited,
)

SEP = "\x1f"  # separates the sections one pass renders (never in data: control characters are stripped)
GUARD_FILTER = "_polku_guard_iter"
VALUE_FILTER = "_polku_value"
# Filters a message has no use for whose output grows with their arguments in ways not
# worth foreseeing (urlize's attributes per link, pprint's debug dump).
REMOVED_FILTERS = ("urlize", "pprint")


def _bounded_filter(name: str, func: Callable) -> Callable:
    """``func`` with its arguments measured, growth foreseen (see template_limits.foresee_filter)
    and its result measured and charged."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # context / eval context / environment

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        head, values = args[:skip], args[skip:]
        for value in values:
            measure(value)
        for value in kwargs.values():
            measure(value)
        return bounded(func(*head, *foresee_filter(name, values, kwargs), **kwargs))

    return update_wrapper(wrapper, func)


class _Bounds(NodeTransformer):
    """The template's syntax tree with the sandbox's checks put in: every ``for`` loop's
    iterable goes through the iteration budget with its body's text as the weight of one
    iteration; every concatenation (``~``), its operands, and every list, tuple and dict
    literal is measured (:data:`VALUE_FILTER`)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        weight = sum(len(data.data) for child in node.body for data in _template_data(child))
        node.iter = nodes.Filter(node.iter, GUARD_FILTER, [nodes.Const(weight)], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [n if isinstance(n, nodes.Const) else _value(n) for n in node.nodes]
        return _value(node)

    def _literal(self, node: nodes.Node) -> nodes.Node:
        self.generic_visit(node)
        return _value(node) if getattr(node, "ctx", "load") == "load" else node

    visit_List = visit_Dict = visit_Tuple = _literal


def _template_data(node: nodes.Node) -> list:
    return [node] if isinstance(node, nodes.TemplateData) else list(node.find_all(nodes.TemplateData))


def _value(node: nodes.Node) -> nodes.Filter:
    return nodes.Filter(node, VALUE_FILTER, [], [], None, None, lineno=node.lineno)


class PolkuSandbox(ImmutableSandboxedEnvironment):
    """The sandbox every Polku template runs in (``html``: the autoescaped environment).

    Jinja's ``ImmutableSandboxedEnvironment``: the sandbox's own checks, and no template
    changes a list, dict or set in place (a new one is made with ``+`` or a filter, and
    measured). Polku adds the limits of :mod:`polku.messaging.template_limits`.
    """

    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])

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
            finalize=bounded,  # every printed value measured and charged before it is turned into text
        )
        self._static_sizes: dict[str, int] = {}  # a template's own text, by name (see get_template)
        self.globals["range"] = limited_range
        self.globals.pop("lipsum", None)
        self.globals["SEP"] = SEP
        self.globals["product_cards"] = template_filters.product_cards
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
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        for name, func in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, func)
        self.filters[GUARD_FILTER] = guard_iter
        self.filters[VALUE_FILTER] = bounded

    def _generate(self, source: nodes.Template, name, filename, defer_init: bool = False):
        """The syntax tree with the checks put in (:class:`_Bounds`). (Jinja has no public hook
        between parsing and code generation; this one has kept its signature since Jinja 2.)"""
        self._static_sizes[name] = sum(len(data.data) for data in source.find_all(nodes.TemplateData))
        source = _Bounds().visit(source)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:
        """The template, its own text charged as work each time a render loads it (an
        ``{% include %}`` in a loop prints it each time)."""
        template = super().get_template(name, parent, globals)
        charge(self._static_sizes.get(template.name, 0))
        return template

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> Any:
        """The same for ``{% include [a, b] %}`` (the first template found)."""
        template = super().select_template(names, parent, globals)
        charge(self._static_sizes.get(template.name, 0))
        return template

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return bounded(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """The sandbox's call, counted and nested within the limits, a string method's growth
        foreseen, the result measured and charged."""
        budget = enter_call()
        try:
            if isinstance(__obj, (BuiltinMethodType, MethodType)) and isinstance(getattr(__obj, "__self__", None), str):
                args = foresee_str_method(__obj, args, kwargs)
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            leave_call(budget)
        return bounded(result)

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
