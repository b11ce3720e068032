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

* :class:`~polku.messaging.template_sandbox.PolkuSandbox`, Jinja's ``SandboxedEnvironment``:
  no ``__class__``/``__globals__``/``_private`` attribute, no unsafe ``str.format`` field access.
* ``StrictUndefined``: a missing variable raises :class:`TemplateRenderError` naming
  the variable, the template and the line.
* Limits against denial of service (:mod:`polku.messaging.template_limits`), the output of
  one part checked while it is produced (:data:`MAX_OUTPUT_CHARS`).
* Customer data is only ever *data*: nothing a customer typed is compiled as a template.

Every error while rendering is raised as :class:`TemplateRenderError`; nothing is rendered a
second way after an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError

from polku.messaging.editable import EDITABLE_MAX_CHARS, NO_OVERRIDES, make_editable  # noqa: F401  (re-exported)
from polku.messaging.template_filters import DEFAULT_LOCALE
from polku.messaging.template_limits import MAX_OUTPUT_CHARS, TemplateLimitError, render_budget
from polku.messaging.template_sandbox import SEP, PolkuSandbox

EMAIL_PARTS = ("subject", "preheader", "html", "text")
SMS_PARTS = ("sms",)
PUSH_PARTS = ("push_title", "push_body")
WEB_PARTS = ("web_title", "web_body", "web_url")  # a web card (docs/onsite.md)
CHANNEL_PARTS = {"email": EMAIL_PARTS, "sms": SMS_PARTS, "push": PUSH_PARTS, "web": WEB_PARTS}
# The block that must be present (non-empty) for a template to support a channel.
CHANNEL_MARKER = {"email": "html", "sms": "sms", "push": "push_body", "web": "web_body"}
# Render passes per channel: (value of `part`, environment, the sections it yields).
PASSES = {
    "email": (("email_text", "text", ("subject", "preheader", "text")), ("html", "html", ("html",))),
    "sms": (("sms", "text", ("sms",)),),
    "push": (("push", "text", ("push_title", "push_body")),),
    "web": (("web", "text", WEB_PARTS),),
}
_BLANK_LINES = re.compile(r"\n[ \t]*(\n[ \t]*)+\n")
_SPACES = re.compile(r"\s+")
_ONE_LINE = frozenset({"subject", "preheader", "sms", "push_title", "push_body", "web_title", "web_body", "web_url"})


def _tidy(name: str, text: str) -> str:
    if name in _ONE_LINE:
        # One line: no header injection, no stray breaks. What ``_SPACES.sub(" ", text).strip()``
        # gives (str.split() splits on the same whitespace as \s); a test compares the two.
        return " ".join(text.split())
    if name == "text":
        text = _BLANK_LINES.sub("\n\n", text)  # runs of blank lines become one
    return text.strip() + "\n"


class TemplateRenderError(Exception):
    """A template could not be rendered; the message names template, line and cause."""

    def __init__(self, message: str, *, template: str | None = None, line: int | None = None, variable: str | None = None):
        super().__init__(message)
        self.template = template
        self.line = line
        self.variable = variable


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


_RESOURCE_LIMIT = "over a resource limit of the sandbox: the template nests too deeply or needs too much memory"
_UNDEFINED_NAME = re.compile(r"'([^']+)' (?:is undefined|has no attribute '([^']+)')")


class TemplateStore:
    """Finds and renders message templates from one folder (the ``templates/`` tree)."""

    def __init__(self, root: Path | str, *, loader: Any = None):
        self.root = Path(root).resolve()
        if not (self.root / "_layouts").is_dir():
            raise FileNotFoundError(f"{self.root} is not a Polku templates folder (no _layouts/)")
        loader = loader or FileSystemLoader(str(self.root))
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
        except (RecursionError, MemoryError) as exc:
            raise TemplateRenderError(f"{path}: {_RESOURCE_LIMIT} ({type(exc).__name__} while reading the template)",
                                      template=path) from None
        if channel not in supported:
            raise TemplateRenderError(
                f"template {out.template!r} ({locale}) does not support channel {channel!r} "
                f"(it has no {CHANNEL_MARKER[channel]!r} block)",
                template=path,
            )
        ctx = dict(context)
        overrides = ctx.pop("editable_overrides", None)
        if "editable" not in ctx:
            ctx["editable"] = make_editable(overrides) if overrides else NO_OVERRIDES
        ctx["channel"] = channel
        ctx["locale"] = locale
        for part, env, names in PASSES[channel]:
            text = self._render_part(self.html_env if env == "html" else self.text_env, path, ctx, part)
            pieces = text.split(SEP) if len(names) > 1 else [text]
            if len(pieces) != len(names):
                raise TemplateRenderError(f"{path}: part {part!r} did not produce {len(names)} sections", template=path)
            for name, piece in zip(names, pieces):
                out.parts[name] = _tidy(name, piece)
        return out

    def _render_part(self, env: PolkuSandbox, path: str, ctx: dict, part: str) -> str:
        """One pass of ``path`` with ``part`` set, within a fresh budget; every error as
        :class:`TemplateRenderError` naming the file and line."""
        try:
            with render_budget():
                template = env.get_template(path)
                try:
                    return _generate(template, {**ctx, "part": part})
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
        except (RecursionError, MemoryError, SyntaxError) as exc:  # SyntaxError: nesting Python cannot compile
            where, line = _error_line(exc)
            raise TemplateRenderError(
                f"{_short(where or path, self.root)}:{line or '?'}: {_RESOURCE_LIMIT} ({type(exc).__name__})", template=path, line=line
            ) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as exc:
            where, line = _error_line(exc)
            raise TemplateRenderError(
                f"{_short(where or path, self.root)}:{line or '?'}: {type(exc).__name__}: {exc}", template=path, line=line
            ) from None


def _generate(template: Any, variables: dict) -> str:
    """The template's output for ``variables``, its size checked chunk by chunk as it is
    produced (:data:`MAX_OUTPUT_CHARS`)."""
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(variables):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateLimitError(f"output is limited to {MAX_OUTPUT_CHARS} characters")
        chunks.append(chunk)
    return "".join(chunks)


def load_words(folder: Path) -> dict[str, dict]:
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
    key = f"__preview__/{path.name}"
    filename = str(path) if path.name.endswith(".j2") else str(path) + ".j2"  # so errors point at it
    own = FunctionLoader(lambda name: (source, filename, lambda: True) if name == key else None)
    preview = TemplateStore(store.root, loader=ChoiceLoader([own, FileSystemLoader(str(store.root))]))
    return preview.render_path(key, context, channel=channel, template_name=path.name)


def iter_template_paths(store: TemplateStore) -> Iterable[tuple[str, str, str]]:
    """(message name, locale, path) for every message template in the store."""
    for name in store.message_names():
        for loc in store.locales(name):
            yield name, loc, f"messages/{name}/{loc}.j2"
