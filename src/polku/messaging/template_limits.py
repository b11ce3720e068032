"""Resource limits of the template sandbox: what one render may spend.

Templates are written by people and run once per recipient, so a template must not be able
to hang or exhaust a Send Lambda. :class:`polku.messaging.template_sandbox.PolkuSandbox`
checks these limits while a part renders; going over one raises :class:`TemplateLimitError`,
which the store reports as a :class:`~polku.messaging.templating.TemplateRenderError` naming
the template and line. Per rendered part (an e-mail renders two):

* **iterations**: every ``for`` loop draws from one budget (:data:`MAX_ITERATIONS`),
  ``range`` is capped (:data:`MAX_RANGE`);
* **calls**: macros, functions and methods called (:data:`MAX_CALLS`), nested at most
  :data:`MAX_CALL_DEPTH` deep (so exponential macro fan-out and recursion stop early);
* **value size**: no value a template makes -- string, list, dict, counted with everything
  it holds (a list holding the same long string twice counts it twice) -- is larger than
  :data:`MAX_SEQUENCE`, and no integer longer than :data:`MAX_INT_BITS` bits. Growth that
  can be foreseen (``*``, ``join``, ``replace``, widths, ``indent``, ``batch``, ...) is refused
  before the value is built; anything else is measured as it is made (concatenation ``~``
  and ``+``, list, dict and tuple literals, every filter's, call's and operator's result);
* **work**: every character and item produced (printed values, results, a loop's own text
  per iteration, a template's text each time it is loaded) and every step of measuring is
  charged to :data:`MAX_WORK`, which bounds the CPU time and the memory one part can use,
  including text collected inside macros and ``{% set %}`` blocks before it is printed;
* **output**: the part's output is checked while it is produced (:data:`MAX_OUTPUT_CHARS`).
"""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Iterator

from jinja2 import Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import Namespace
from markupsafe import Markup

MAX_ITERATIONS = 10_000  # loop iterations per rendered part
MAX_RANGE = 1_000
MAX_SEQUENCE = 100_000  # characters / items one value may hold (counted with what it holds)
MAX_INT_BITS = 128
MAX_POWER = 10**12
MAX_WIDTH = 1_000  # widths in format specs, center/indent/wordwrap/truncate
MAX_CALLS = 5_000  # macro, function and method calls per rendered part (the shipped messages make at most ~20)
MAX_CALL_DEPTH = 50
MAX_WORK = 2_000_000  # characters and items produced per rendered part (the shipped messages use at most ~26,000)
MAX_OUTPUT_CHARS = 512 * 1024

_WIDTH_IN_SPEC = re.compile(r"(\d{4,})")
_STAR_WIDTH = re.compile(r"%[^a-zA-Z%]*\*")


class TemplateLimitError(SecurityError):
    """A template exceeded a resource limit (loop budget, sizes, calls, work)."""


class RenderBudget:
    """What one rendered part may still spend."""

    __slots__ = ("iterations", "calls", "depth", "work")

    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS
        self.calls = MAX_CALLS
        self.depth = 0
        self.work = MAX_WORK


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


def take_iterations(n: int = 1, weight: int = 0) -> None:
    """Draw ``n`` loop iterations (and ``weight`` units of work each) from the current part's
    budget (nothing outside a render)."""
    budget = _budget.get()
    if budget is None:
        return
    budget.iterations -= n
    if budget.iterations < 0:
        raise TemplateLimitError(f"the template ran more than {MAX_ITERATIONS} loop iterations")
    if weight:
        charge(n * weight, budget)


def charge(units: int, budget: RenderBudget | None = None) -> None:
    """Charge ``units`` of work (characters or items produced, steps taken) to the part."""
    budget = budget or _budget.get()
    if budget is None:
        return
    budget.work -= units
    if budget.work < 0:
        raise TemplateLimitError(f"the template did more than {MAX_WORK:,} units of work (characters and items it produced)")


def enter_call() -> RenderBudget | None:
    """Count one call and one level of nesting (undone by :func:`leave_call`)."""
    budget = _budget.get()
    if budget is None:
        return None
    budget.calls -= 1
    if budget.calls < 0:
        raise TemplateLimitError(f"the template made more than {MAX_CALLS} calls")
    if budget.depth >= MAX_CALL_DEPTH:
        raise TemplateLimitError(f"calls are nested at most {MAX_CALL_DEPTH} deep")
    budget.depth += 1
    return budget


def leave_call(budget: RenderBudget | None) -> None:
    if budget is not None:
        budget.depth -= 1


def _too_big(size: int) -> TemplateLimitError:
    return TemplateLimitError(f"a value of {size} or more characters/items exceeds the limit of {MAX_SEQUENCE}")


def measure(value: Any, limit: int = MAX_SEQUENCE) -> int:
    """The size of ``value`` counted with everything it holds (characters of strings, items of
    lists, tuples, sets, dicts and namespaces, each time they are held), refused over ``limit``
    and integers over :data:`MAX_INT_BITS` bits. The walk stops at the limit, so it is bounded
    however the value is nested; its steps are charged as work."""
    kind = type(value)
    if kind is str or kind is Markup:
        size = len(value)
        if size > limit:
            raise _too_big(size)
        return size
    if kind is int:
        if value.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError(f"integers are limited to {MAX_INT_BITS} bits")
        return 1
    if kind is float or kind is bool or value is None:
        return 1
    total = steps = 0
    stack = [value]
    while stack:  # every node counts at least 1, so the walk takes at most `limit` steps
        v = stack.pop()
        steps += 1
        if isinstance(v, str):
            total += len(v) or 1
        elif isinstance(v, int) and not isinstance(v, bool):
            if v.bit_length() > MAX_INT_BITS:
                raise TemplateLimitError(f"integers are limited to {MAX_INT_BITS} bits")
            total += 1
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += 1
            stack.extend(v)
        elif isinstance(v, dict):
            total += 1
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, Namespace):
            total += 1
            stack.extend(object.__getattribute__(v, "__dict__").values())
        elif isinstance(v, range):
            total += len(v) or 1
        else:  # numbers, None, Undefined, functions, macros, generators: printed small
            total += 1
        if total > limit:
            raise _too_big(total)
    charge(steps)
    return total


def bounded(value: Any) -> Any:
    """``value`` once measured (see :func:`measure`) and its size charged as work."""
    kind = type(value)
    if kind is str or kind is Markup:  # the common case, without the walk
        size = len(value)
        if size > MAX_SEQUENCE:
            raise _too_big(size)
        charge(size)
        return value
    if isinstance(value, Undefined):
        return value
    charge(measure(value))
    return value


def bounded_list(iterable: Any) -> list:
    """``list(iterable)``, refused past :data:`MAX_SEQUENCE` items without reading further."""
    items = list(islice(iterable, MAX_SEQUENCE + 1))
    if len(items) > MAX_SEQUENCE:
        raise _too_big(len(items))
    return items


def guard_iter(iterable: Any, weight: int = 0) -> Iterator[Any]:
    """The filter every ``for`` loop's iterable goes through: one iteration drawn per item,
    and the loop body's own text (``weight`` characters) charged as work."""
    for item in iterable:
        take_iterations(1, weight)
        yield item


def limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimitError(f"range() is limited to {MAX_RANGE} items, got {len(rng)}")
    return rng


def check_spec_widths(fmt: str) -> None:
    """Refuse widths or precisions over :data:`MAX_WIDTH` and ``*`` widths in a format."""
    for m in _WIDTH_IN_SPEC.finditer(fmt):
        if int(m.group(1)) > MAX_WIDTH:
            raise TemplateLimitError(f"format widths are limited to {MAX_WIDTH}")
    if _STAR_WIDTH.search(fmt):
        raise TemplateLimitError("format widths must be written in the format, not given as * arguments")


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
        measure(right)  # what will be printed into the string


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


# ---------------------------------------------------------------- growth foreseen before it happens
def _expect(size: int, what: str) -> None:
    if size > MAX_SEQUENCE:
        raise TemplateLimitError(f"{what} would make {size} characters/items, over the limit of {MAX_SEQUENCE}")


def _replaced_size(s: Any, old: Any, new: Any, count: Any = None) -> int:
    s, old, new = str(s), str(old), str(new)
    n = len(s) + 1 if not old else s.count(old)
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return len(s) + n * max(0, len(new) - len(old))


def _joined(value: Any, separator: Any) -> tuple[list, int]:
    items = bounded_list(value)
    return items, measure(items) + len(str(separator)) * len(items)


def foresee_filter(name: str, args: tuple, kwargs: dict) -> tuple:
    """Refuse a filter call whose result would be over the limits, before it runs; ``args``
    (without the context argument) come back with an iterable to be joined read into a list."""
    if name == "join" and args:
        items, size = _joined(args[0], args[1] if len(args) > 1 else kwargs.get("d", ""))
        _expect(size, "join")
        args = (items, *args[1:])
    elif name == "replace" and len(args) >= 3:
        _expect(_replaced_size(*args[:4]), "replace")
    elif name == "indent" and args:
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        width = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        _expect(len(str(args[0])) + (str(args[0]).count("\n") + 1) * width, "indent")
    elif name == "wordwrap" and args:
        width = args[1] if len(args) > 1 else kwargs.get("width", 79)
        wrap = args[3] if len(args) > 3 else kwargs.get("wrapstring") or "\n"
        text = str(args[0])
        _expect(len(text) + (len(text) // max(1, width if isinstance(width, int) else 1) + 1) * len(str(wrap)), "wordwrap")
    elif name in ("batch", "slice") and len(args) > 1 and isinstance(args[1], int):
        _expect(args[1], name)
    elif name == "sum" and args:
        start = args[2] if len(args) > 2 else kwargs.get("start", 0)
        if isinstance(start, (str, list, tuple)):
            items = bounded_list(args[0])
            size = measure(items) + measure(start)
            _expect(size, "sum")
            charge(len(items) * size)  # each step copies what was summed so far
            args = (items, *args[1:])
    return args


def foresee_str_method(method: Any, args: tuple, kwargs: dict) -> tuple:
    """The same for a method of a string called by a template (``s.replace(...)``, ``s.join(...)``)."""
    s, name = method.__self__, method.__name__
    if name == "join" and args:
        items, size = _joined(args[0], s)
        _expect(size, "join")
        args = (items, *args[1:])
    elif name == "replace" and len(args) >= 2:
        _expect(_replaced_size(s, *args[:3]), "replace")
    elif name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _expect(args[0], name)
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        _expect(len(s) + s.count("\t") * (tab if isinstance(tab, int) else 8), name)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _expect(len(s) * max(1, longest), name)
    return args


class _WidthLimited:
    """A formatter refusing field widths over :data:`MAX_WIDTH` (checked per field, after
    nested fields are filled in) and values too big to print."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        measure(value)
        return super().convert_field(value, conversion)  # type: ignore[misc]

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_spec_widths(format_spec)
        measure(value)
        return super().format_field(value, format_spec)  # type: ignore[misc]


class LimitedFormatter(_WidthLimited, SandboxedFormatter):
    """The sandbox's ``str.format`` formatter, width-limited."""


class LimitedEscapeFormatter(_WidthLimited, SandboxedEscapeFormatter):
    """The same for ``Markup.format`` (arguments escaped)."""
