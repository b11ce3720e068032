"""Resource limits of the template sandbox: what one render may spend.

Templates are written by people and run once per recipient, so a template must not be able
to hang or exhaust a Send Lambda. Every limit here is checked by
:class:`polku.messaging.template_sandbox.PolkuSandbox` while a part renders; going over one
raises :class:`TemplateLimitError`, which the store reports as a
:class:`~polku.messaging.templating.TemplateRenderError` naming the template and line.

* every ``for`` loop draws from one iteration budget per rendered part (:data:`MAX_ITERATIONS`),
  ``range`` is capped (:data:`MAX_RANGE`);
* string/list repetition, powers and ``%``/``format`` widths are capped before the value is built;
* the output of one part is capped (:data:`MAX_OUTPUT_CHARS`).
"""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEscapeFormatter, SandboxedFormatter
from markupsafe import Markup

MAX_ITERATIONS = 10_000  # loop iterations per rendered part
MAX_RANGE = 1_000
MAX_SEQUENCE = 100_000  # characters / items produced by *, %, format
MAX_POWER = 10**12
MAX_WIDTH = 1_000  # widths in format specs, center/indent/wordwrap/truncate
MAX_OUTPUT_CHARS = 512 * 1024

_WIDTH_IN_SPEC = re.compile(r"(\d{4,})")


class TemplateLimitError(SecurityError):
    """A template exceeded a resource limit (loop budget, sizes)."""


class RenderBudget:
    """What one rendered part may still spend."""

    __slots__ = ("iterations",)

    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS


_budget: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("polku_render_budget", default=None)


@contextmanager
def render_budget() -> Iterator[RenderBudget]:
    """A fresh budget for the part rendered inside the ``with`` block."""
    budget = RenderBudget()
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def take_iterations(n: int = 1) -> None:
    """Draw ``n`` loop iterations from the current part's budget (none outside a render)."""
    budget = _budget.get()
    if budget is None:
        return
    budget.iterations -= n
    if budget.iterations < 0:
        raise TemplateLimitError(f"the template ran more than {MAX_ITERATIONS} loop iterations")


def guard_iter(iterable: Any) -> Iterator[Any]:
    """The filter every ``for`` loop's iterable goes through: one iteration drawn per item."""
    for item in iterable:
        take_iterations()
        yield item


def limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimitError(f"range() is limited to {MAX_RANGE} items, got {len(rng)}")
    return rng


def check_spec_widths(fmt: str) -> None:
    for m in _WIDTH_IN_SPEC.finditer(fmt):
        if int(m.group(1)) > MAX_WIDTH:
            raise TemplateLimitError(f"format widths are limited to {MAX_WIDTH}")


def size_of(value: Any) -> int | None:
    try:
        return len(value)
    except TypeError:
        return None


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*``, ``**`` and ``%`` whose result would be over the limits, before computing it."""
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            size = size_of(seq)
            if size is not None and isinstance(n, int) and size * n > MAX_SEQUENCE:
                raise TemplateLimitError(f"repetition is limited to {MAX_SEQUENCE} items")
    elif operator == "**":
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if abs(right) > 64 or (abs(left) > 1 and abs(right) * max(1, len(str(int(abs(left))))) > 12):
                raise TemplateLimitError(f"powers are limited to {MAX_POWER}")
    elif operator == "%" and isinstance(left, str):
        check_spec_widths(left)


def check_value(value: Any) -> Any:
    """``value`` if its size is within :data:`MAX_SEQUENCE`."""
    size = size_of(value) if isinstance(value, (str, list, tuple)) else None
    if size is not None and size > MAX_SEQUENCE:
        raise TemplateLimitError(f"a value of {size} items exceeds the limit of {MAX_SEQUENCE}")
    return value


def safe_format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    """Jinja's ``format`` filter with the widths in the format checked first."""
    if args and kwargs:
        raise TemplateLimitError("format: use positional or keyword arguments, not both")
    fmt = str(value)
    check_spec_widths(fmt)
    result = fmt % (kwargs or args)
    return Markup(result) if isinstance(value, Markup) else result


def width_limited(filter_func: Callable, *positions: int, names: tuple[str, ...] = ()) -> Callable:
    """``filter_func`` refusing a width over :data:`MAX_WIDTH` at ``positions`` / keyword ``names``."""

    def wrapper(*args: Any, **kwargs: Any):
        for pos in positions:
            if len(args) > pos and isinstance(args[pos], int) and args[pos] > MAX_WIDTH:
                raise TemplateLimitError(f"{filter_func.__name__}: width is limited to {MAX_WIDTH}")
        for name in names:
            if isinstance(kwargs.get(name), int) and kwargs[name] > MAX_WIDTH:
                raise TemplateLimitError(f"{filter_func.__name__}: {name} is limited to {MAX_WIDTH}")
        return filter_func(*args, **kwargs)

    wrapper.__name__ = filter_func.__name__
    if hasattr(filter_func, "jinja_pass_arg"):
        wrapper.jinja_pass_arg = filter_func.jinja_pass_arg  # type: ignore[attr-defined]
    return wrapper


class _WidthLimited:
    """A formatter refusing field widths over :data:`MAX_WIDTH` (checked per field, after
    nested fields are filled in)."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec_widths(format_spec)
        return super().format_field(value, format_spec)  # type: ignore[misc]


class LimitedFormatter(_WidthLimited, SandboxedFormatter):
    """The sandbox's ``str.format`` formatter, width-limited."""


class LimitedEscapeFormatter(_WidthLimited, SandboxedEscapeFormatter):
    """The same for ``Markup.format`` (arguments escaped)."""
