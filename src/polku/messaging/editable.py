"""Editable blocks: the text a salesperson may replace for one recipient (distributed marketing).

``{% call editable("intro") %}default text{% endcall %}`` prints the default text unless this
recipient has an override for ``intro``. An override is plain text: escaped in the HTML part,
cut to :data:`EDITABLE_MAX_CHARS`, never compiled as a template.
"""

from __future__ import annotations

from typing import Any, Callable

from jinja2 import pass_eval_context
from markupsafe import escape

EDITABLE_MAX_CHARS = 2_000


def make_editable(overrides: dict[str, str] | None) -> Callable:
    """The template global ``editable(name)`` for one recipient's ``overrides``."""
    overrides = dict(overrides or {})

    @pass_eval_context
    def editable(eval_ctx, name: str, caller: Callable | None = None) -> Any:
        value = overrides.get(name)
        if value is not None:
            text = str(value)[:EDITABLE_MAX_CHARS]
            # A call block's result is written unescaped, so escape here (HTML part only).
            return escape(text) if eval_ctx.autoescape else text
        return caller() if caller is not None else ""

    return editable


NO_OVERRIDES = make_editable(None)  # the same for every message without overrides (it keeps no state)
