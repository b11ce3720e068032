"""One message, one part, one function: templates flattened before Jinja compiles them.

A message renders as ``messages/<name>/<locale>.j2`` extending the brand layout, once per
*part* (``email_text``, ``html``, ``sms``, ``push``). Jinja runs that as a chain of calls
on every render: the message's root fetches the layout and registers its blocks, the
layout's root creates a ``Macro`` object for each building block and calls the blocks
through the context, each ``greeting()`` / ``product_list(...)`` is a macro call with
its own frame and output list, and every ``{% if part == "html" %}`` is tested again.
About half of an e-mail's rendering time went there, not into the recipient's data.

:func:`flatten` builds, from the same two files, one Jinja template for one part and
lets the same environment (sandbox, autoescape, StrictUndefined, loop budget) compile it:

* **inheritance resolved**: the layout's body with every ``{% block %}`` replaced by the
  message's block (or the layout's default; a block binds no name, so it needs no scope
  of its own); ``{{ self.subject() }}`` written as the block's content;
* **building blocks inlined**: ``{{ greeting() }}`` and the other layout macros called
  in an output position become the macro's body inside a ``{% with %}`` binding its
  arguments (defaults filled in as the macro would), so no macro object or call;
* **known values fixed**: ``part`` and, per the renderer's key, ``locale``, the brand's
  strings and the shared words (``t = ui(locale)``) are constants, so the branches of
  ``{% if part == ... %}`` that cannot run are left out and static text joins up;
* **one list**: the whole part is collected in one list and handed out once, every
  variable looked up once; Jinja's code generator writes dict attribute reads, escaping
  of a ``str`` and calls of plain functions inline (:class:`_FlatCodeGenerator`).

Every expression that reads data is kept as it was written and still runs in the sandbox
at render time; the output is the same, character for character (a test renders every
message, locale and channel over varied recipients both ways). Anything outside what
this handles -- a message with its own ``{% set %}``, loops or imports in a block,
``super()``, ``self`` used otherwise, nested inheritance, ``{% autoescape %}``, macros
with ``caller``/``varargs``/non-constant defaults or called inside expressions -- is not
flattened (that part stays as Jinja compiles it), or keeps its macro call. If a
flattened render raises, the renderer renders that part again the ordinary way, so
errors name the file and line the author wrote.
"""

from __future__ import annotations

import copy
from types import FunctionType, MethodType
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, optimizeconst
from markupsafe import Markup

try:  # the C function markupsafe.escape() uses for a plain str
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: escape() as it is
    _escape_inner = None

from polku.messaging.message_context import DICT_ATTRIBUTES, ReadOnlyDict
from jinja2.nodes import EvalContext, Impossible
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

# Statements a block or inlined macro body may not contain: they bind names or change the
# evaluation context, so moving the body to another scope could change what it reads.
_BINDING = (nodes.Assign, nodes.AssignBlock, nodes.For, nodes.Macro, nodes.Import, nodes.FromImport,
            nodes.Include, nodes.Extends, nodes.Block, nodes.With, nodes.EvalContextModifier,
            nodes.OverlayScope, nodes.FilterBlock)
_SPECIAL = frozenset({"self", "super", "caller", "varargs", "kwargs", "loop"})
_MAX_INLINE_DEPTH = 8
WHOLE_FILTER = "_polku_whole"  # the environment's identity filter (see compile())


def whole(value: Any) -> Any:
    """The identity filter a flattened part is wrapped in (registered as :data:`WHOLE_FILTER`)."""
    return value


class NotFlat(Exception):
    """The template uses something flattening does not handle; render it as Jinja does."""


def flatten(env: Any, path: str, part: str, known: dict | None = None) -> Any:
    """The flattened template of ``path`` for ``part``, compiled by ``env``; None when
    the template cannot be flattened (it is then rendered as before).

    ``known`` holds values every render of this template will have (the renderer keys
    its flattened templates by them): ``locale`` (a string), ``brand`` (a read-only dict)
    and ``words`` (what ``ui(locale)`` returns). They are written into the template as
    constants where it reads them: ``locale``, ``brand.NAME`` and ``t.NAME`` for a ``t``
    set once at the top from ``ui(locale)``, when the value is a string; nothing that binds
    one of those names may appear elsewhere."""
    try:
        loader = env.loader
        source, filename, _ = loader.get_source(env, path)
        child = env.parse(source, path, filename)
        return _Flattener(env, path, part, known or {}).compile(child, filename)
    except Exception:  # noqa: BLE001 - NotFlat, a template error, or anything else: flattening is an
        return None  # optimisation, never a reason not to render


class _Flattener:
    def __init__(self, env: Any, path: str, part: str, known: dict | None = None):
        self.env = env
        self.path = path
        self.part = part
        self.known = known or {}

    # -- inheritance ---------------------------------------------------------------
    def compile(self, child: nodes.Template, filename: str | None) -> Any:
        env = self.env
        body = child.body  # output before {% extends %} is rendered, after it is not: extends must come first
        if not body or not isinstance(body[0], nodes.Extends) or not isinstance(body[0].template, nodes.Const):
            raise NotFlat("not a template extending a layout by name")
        blocks: dict[str, nodes.Block] = {}
        for node in child.body:
            if isinstance(node, nodes.Block):
                if node.name in blocks:
                    raise NotFlat("block defined twice")
                blocks[node.name] = node
            elif not isinstance(node, (nodes.Extends, nodes.Output)):
                raise NotFlat("top-level statement besides blocks")  # e.g. {% set %} (it runs even with extends)
        if sum(isinstance(n, nodes.Extends) for n in child.body) != 1:
            raise NotFlat("extends more than once")
        layout_name = env.join_path(body[0].template.value, self.path)
        layout_source, _, _ = env.loader.get_source(env, layout_name)
        layout = env.parse(layout_source, layout_name)
        if any(True for _ in layout.find_all(nodes.Extends)):
            raise NotFlat("the layout extends another template")
        for block in blocks.values():
            self._check_body(block.body, "block")
        self.blocks = blocks
        self.layout_blocks = {b.name: b for b in layout.find_all(nodes.Block)}
        for block in self.layout_blocks.values():
            if block.scoped or block.required:
                raise NotFlat("scoped or required block")
        self.macros = self._inlinable_macros(layout)
        # Names the layout binds at its top level (set, macros): a block reading one of them
        # reads the same value inlined, provided it is bound before any block runs.
        top = layout.body
        first_block = next((i for i, n in enumerate(top) if any(True for _ in _blocks_in(n))), len(top))
        for node in top[first_block:]:
            if isinstance(node, (nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.Import, nodes.FromImport)):
                raise NotFlat("the layout binds a name after its first block")
        new_body = self._stmts(top, depth=0, bound=frozenset(), in_layout=True)
        tree = nodes.Template(new_body, lineno=1)
        tree = self._fix_known(tree)
        tree = self._drop_unused_macros(tree)
        tree = _OutputMerger().visit(tree)
        tree.body[:0] = _hoisted_loads(tree)
        if WHOLE_FILTER in env.filters:
            # The whole part collected in one list and handed out once, instead of one yield
            # per piece (a filter block whose filter returns its input as it is).
            tree.body = [nodes.FilterBlock(tree.body, nodes.Filter(None, WHOLE_FILTER, [], [], None, None, lineno=1),
                                           lineno=1)]
        tree.set_environment(env)
        if any(True for _ in tree.find_all(nodes.For)):  # the sandbox's loop budget wraps loops in _generate
            raise NotFlat("a loop")
        name = f"{self.path}#{self.part}"
        generator = _FlatCodeGenerator(env, name, filename, None, False, env.optimized)
        generator.visit(tree)
        code = env._compile(generator.stream.getvalue(), filename or name)
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
        template.root_render_func.__globals__.update(_INLINE_NAMES)
        return template

    def _check_body(self, body: list, what: str) -> None:
        """Reject a body that binds names or reads the context in ways a move could change
        (``self.block()`` in a block is checked where it is used: only as an output)."""
        for stmt in body:
            # a call block's own parameters ({% call(x) editable(...) %}) bind only inside it
            params = {id(a) for n in _walk(stmt) if isinstance(n, nodes.CallBlock) for a in n.args}
            for node in _walk(stmt):
                if id(node) in params:
                    continue
                if isinstance(node, _BINDING):
                    raise NotFlat(f"{what} contains {type(node).__name__}")
                if isinstance(node, nodes.Name) and node.name in ("super", "varargs", "kwargs", "loop"):
                    raise NotFlat(f"{what} uses {node.name}")
                if isinstance(node, nodes.Name) and node.name == "self" and what == "macro":
                    raise NotFlat(f"{what} uses {node.name}")
                if isinstance(node, nodes.Name) and node.ctx != "load":
                    raise NotFlat(f"{what} binds {node.name}")
                if isinstance(node, (nodes.ContextReference, nodes.DerivedContextReference, nodes.InternalName,
                                     nodes.ImportedName)):
                    raise NotFlat(f"{what} reads the context directly")

    def _inlinable_macros(self, layout: nodes.Template) -> dict[str, nodes.Macro]:
        """Top-level macros of the layout that may be inlined at an output position."""
        defined: dict[str, list] = {}
        for node in layout.find_all(nodes.Macro):
            defined.setdefault(node.name, []).append(node)
        top = {n.name: n for n in layout.body if isinstance(n, nodes.Macro)}
        stored = {n.name for n in layout.find_all(nodes.Name) if n.ctx != "load"}
        macros = {}
        for name, macro in top.items():
            if len(defined[name]) != 1 or name in stored:
                continue
            if any(not isinstance(d, nodes.Const) for d in macro.defaults):
                continue
            try:
                self._check_body(macro.body, "macro")
            except NotFlat:
                continue
            if any(isinstance(n, nodes.Name) and n.name == "caller" for s in macro.body for n in _walk(s)):
                continue
            macros[name] = macro
        return macros

    def _stmts(self, body: list, *, depth: int, bound: frozenset, in_layout: bool) -> list:
        out: list = []
        for node in body:
            out.extend(self._stmt(node, depth=depth, bound=bound, in_layout=in_layout))
        return out

    def _stmt(self, node: nodes.Node, *, depth: int, bound: frozenset, in_layout: bool) -> list:
        if isinstance(node, nodes.Block):
            if not in_layout:
                raise NotFlat("a block inside a block or macro")
            block = self.blocks.get(node.name, node)
            if block is node:
                self._check_body(node.body, "layout block")
            # No scope of its own: a block body binds no name (checked), and the layout binds
            # none after its first block, so every name it reads has the value it had in the block.
            body = [copy.deepcopy(n, {id(self.env): self.env}) for n in block.body]
            return self._stmts(body, depth=depth, bound=bound, in_layout=False)
        if isinstance(node, nodes.Output):
            return self._output(node, depth=depth, bound=bound)
        if isinstance(node, nodes.If):
            node.body = self._stmts(node.body, depth=depth, bound=bound, in_layout=in_layout)
            for elif_ in node.elif_:
                elif_.body = self._stmts(elif_.body, depth=depth, bound=bound, in_layout=in_layout)
            node.else_ = self._stmts(node.else_, depth=depth, bound=bound, in_layout=in_layout)
            self._no_self(node.test)
            for elif_ in node.elif_:
                self._no_self(elif_.test)
            return [node]
        if isinstance(node, nodes.CallBlock):
            self._no_self(node)
            inner = bound | {a.name for a in node.args} | {"caller"}
            node.body = self._stmts(node.body, depth=depth, bound=inner, in_layout=False)
            return [node]
        if isinstance(node, nodes.Macro):
            if not in_layout:
                raise NotFlat("macro inside a block")
            if any(True for _ in _blocks_in(node)):
                raise NotFlat("a block inside a macro")
            self._no_self(node)
            return [node]  # kept as defined; dropped later if no call remains
        if isinstance(node, nodes.Scope):
            if in_layout and any(True for _ in _blocks_in(node)):
                raise NotFlat("a block inside a scope")  # it would see the scope's names once inlined
            node.body = self._stmts(node.body, depth=depth, bound=bound, in_layout=in_layout)
            return [node]
        if in_layout and isinstance(node, (nodes.Assign, nodes.ExprStmt)):
            self._no_self(node)
            return [node]
        if isinstance(node, nodes.ExprStmt):
            self._no_self(node)
            return [node]
        if any(True for _ in _blocks_in(node)):
            raise NotFlat(f"a block inside {type(node).__name__}")
        if in_layout and not isinstance(node, _BINDING):
            self._no_self(node)
            return [node]
        raise NotFlat(f"statement {type(node).__name__}")

    def _no_self(self, node: nodes.Node) -> None:
        for n in _walk(node):
            if isinstance(n, nodes.Name) and n.name in ("self", "super"):
                raise NotFlat("self/super outside an output of a block")

    # -- outputs: self.block() and macro calls ---------------------------------------
    def _output(self, node: nodes.Output, *, depth: int, bound: frozenset) -> list:
        out: list = []
        pending: list = []

        def flush():
            if pending:
                out.append(nodes.Output(list(pending), lineno=node.lineno))
                pending.clear()

        for expr in node.nodes:
            block_name = _self_block_call(expr)
            if block_name is not None:
                block = self.blocks.get(block_name) or self.layout_blocks.get(block_name)
                if block is None:
                    raise NotFlat(f"self.{block_name}() names no block")
                if block is self.layout_blocks.get(block_name) and block_name not in self.blocks:
                    self._check_body(block.body, "layout block")
                flush()
                body = [copy.deepcopy(n, {id(self.env): self.env}) for n in block.body]
                out.extend(self._stmts(body, depth=depth, bound=bound, in_layout=False))
                continue
            inlined = self._inline_call(expr, depth=depth, bound=bound)
            if inlined is not None:
                flush()
                out.append(inlined)
                continue
            self._no_self(expr)
            pending.append(expr)
        flush()
        return out

    def _inline_call(self, expr: nodes.Node, *, depth: int, bound: frozenset) -> nodes.Node | None:
        if not (isinstance(expr, nodes.Call) and isinstance(expr.node, nodes.Name) and expr.node.ctx == "load"):
            return None
        macro = self.macros.get(expr.node.name)
        if macro is None or expr.node.name in bound or expr.dyn_args is not None or expr.dyn_kwargs is not None:
            return None
        if depth >= _MAX_INLINE_DEPTH:
            return None
        params = [a.name for a in macro.args]
        if len(expr.args) > len(params):
            return None
        given = dict(zip(params, expr.args))
        for kw in expr.kwargs:
            if kw.key not in params or kw.key in given:
                return None
            given[kw.key] = kw.value
        defaults = dict(zip(params[len(params) - len(macro.defaults):], macro.defaults))
        values = []
        for p in params:
            if p in given:
                values.append(given[p])
            elif p in defaults:
                values.append(nodes.Const(defaults[p].value, lineno=expr.lineno))
            else:
                return None  # the macro would get an undefined parameter: keep the call
        # The macro's body reads its free names from the layout's scope; at the call site
        # none of them may be bound by an enclosing inlined macro or call block.
        free = {n.name for s in macro.body for n in _walk(s) if isinstance(n, nodes.Name)} - set(params)
        if free & bound or free & _SPECIAL:
            return None
        for value in values:
            self._no_self(value)
        body = [copy.deepcopy(n, {id(self.env): self.env}) for n in macro.body]
        # A parameter given a constant (a literal, or a default) is that constant wherever the
        # body reads it (the body binds no name, checked): `heading or t.recommended` folds.
        consts = {p: v for p, v in zip(params, values) if isinstance(v, nodes.Const)}
        if any(isinstance(n, nodes.CallBlock) and n.args for stmt in body for n in _walk(stmt)):
            consts = {}  # a call block's own parameter could share a name with the macro's
        if consts:
            body = [_ConstNames(consts).visit(stmt) for stmt in body]
        rest = [(p, v) for p, v in zip(params, values) if p not in consts]
        body = self._stmts(body, depth=depth + 1, bound=bound | {p for p, _ in rest}, in_layout=False)
        return nodes.With([nodes.Name(p, "store", lineno=expr.lineno) for p, _ in rest], [v for _, v in rest], body,
                          lineno=expr.lineno)

    # -- known values as constants ---------------------------------------------------
    def _fix_known(self, tree: nodes.Template) -> nodes.Template:
        """``part`` (and the ``known`` values) as constants; branches that cannot run left out."""
        bound: dict[str, int] = {}
        for n in tree.find_all(nodes.Name):
            if n.ctx != "load":
                bound[n.name] = bound.get(n.name, 0) + 1
        for n in tree.find_all((nodes.Macro, nodes.CallBlock)):
            for a in n.args:
                bound[a.name] = bound.get(a.name, 0) + 1
        for n in tree.find_all(nodes.With):
            for t in n.targets:
                bound[t.name] = bound.get(t.name, 0) + 1
        names = {"part": self.part}
        if isinstance(self.known.get("locale"), str):
            names["locale"] = self.known["locale"]
        names = {k: v for k, v in names.items() if k not in bound}
        attrs = {}
        brand = self.known.get("brand")
        if isinstance(brand, ReadOnlyDict) and "brand" not in bound:
            attrs["brand"] = brand
        words = self.known.get("words")
        t_assign = None
        if isinstance(words, dict) and "locale" in names and "ui" not in bound and bound.get("t") == 1:
            # t = ui(locale), once, at the top, before anything reads t
            for i, stmt in enumerate(tree.body):
                if isinstance(stmt, nodes.Assign) and isinstance(stmt.target, nodes.Name) and stmt.target.name == "t":
                    call = stmt.node
                    if (isinstance(call, nodes.Call) and isinstance(call.node, nodes.Name) and call.node.name == "ui"
                            and len(call.args) == 1 and isinstance(call.args[0], nodes.Name)
                            and call.args[0].name == "locale" and not call.kwargs and call.dyn_args is None
                            and call.dyn_kwargs is None
                            and not any(n.name == "t" for s in tree.body[:i] for n in s.find_all(nodes.Name))):
                        attrs["t"], t_assign = words, stmt
                    break
        tree = _KnownFolder(names, attrs, EvalContext(self.env, self.path)).visit(tree)
        if t_assign is not None and not any(n.name == "t" and n.ctx == "load" for n in tree.find_all(nodes.Name)):
            # every t.NAME is a constant now: t = ui(locale) need not run (a call, no output)
            tree.body = [n for n in tree.body if n is not t_assign]
        return tree

    def _drop_unused_macros(self, tree: nodes.Template) -> nodes.Template:
        used = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
        tree.body = [n for n in tree.body if not (isinstance(n, nodes.Macro) and n.name in self.macros
                                                  and n.name not in used)]
        return tree


# What the inlined code below refers to, put into each flattened template's namespace.
_INLINE_NAMES = {
    "_polku_dicts": frozenset({dict, ReadOnlyDict}),
    "_polku_new": str.__new__,
    "_polku_markup": Markup,
    "_polku_escape_str": _escape_inner,
    "_polku_plain_callables": frozenset({FunctionType, MethodType}),
    "_polku_function": FunctionType,
    "_polku_pass_context": {"jinja_pass_arg": _PassArg.context},
}


class _FlatCodeGenerator(CodeGenerator):
    """Jinja's code generator, writing the common operations of a flattened template inline
    (no Python call for each), with the same results (calls: :meth:`visit_Call`; the part's
    one list: :meth:`visit_FilterBlock`):

    * ``obj.name`` for a name that is not an attribute of ``dict`` (nor private): the item
      when ``obj`` is a plain or read-only dict that has it, else ``environment.getattr``
      as before (which answers those dicts the same way: PolkuSandbox.getattr, plain Jinja);
    * ``{{ value }}`` in an autoescaped part when ``value`` is a plain ``str``: markupsafe's
      own escaping of it as Markup, which is what ``escape()`` returns for a str; any other
      value goes to ``escape()`` as before.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._escape_names: list[str | None] = []

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Any) -> None:
        attr = node.attr
        if self.environment.is_async or not attr.isidentifier() or attr.startswith("_") or attr in DICT_ATTRIBUTES:
            return super().visit_Getattr(node, frame)
        tmp = self.temporary_identifier()
        self.write(f"({tmp}[{attr!r}] if type({tmp} := ")
        self.visit(node.node, frame)
        self.write(f") in _polku_dicts and {attr!r} in {tmp} else environment.getattr({tmp}, {attr!r}))")

    def visit_FilterBlock(self, node: nodes.FilterBlock, frame: Any) -> None:
        """The part's own wrapper (the identity filter around the whole part): its pieces
        joined and handed out as one string, without the filter call and Markup."""
        if not (node.filter.name == WHOLE_FILTER and node.filter.node is None and not node.filter.args
                and not node.filter.kwargs and frame.buffer is None and frame.toplevel):
            return super().visit_FilterBlock(node, frame)
        filter_frame = frame.inner()
        filter_frame.symbols.analyze_node(node)
        self.enter_frame(filter_frame)
        self.buffer(filter_frame)
        self.blockvisit(node.body, filter_frame)
        self.writeline(f"yield concat({filter_frame.buffer})", node)
        self.leave_frame(filter_frame)

    def visit_Call(self, node: nodes.Call, frame: Any, forward_caller: bool = False) -> None:
        """``f(a, b)`` of a plain Python function or method (no attributes, so nothing asks
        for the context or marks it unsafe): called directly, as the sandbox's call() and
        Context.call() end up doing; a function whose only attribute is pass_context's mark
        (``product_cards``): called with the context first, as they do; anything else
        through them as before. (A function
        raising StopIteration, which they turn into an undefined value, makes the part fail
        here, and the renderer renders it again the ordinary way.)"""
        if (forward_caller or node.kwargs or node.dyn_args is not None or node.dyn_kwargs is not None
                or frame.loop_frame or frame.block_frame or self.environment.is_async):
            return super().visit_Call(node, frame, forward_caller=forward_caller)
        tmp = self.temporary_identifier()
        self.write(f"({tmp}(")
        for i, arg in enumerate(node.args):
            self.write(", " if i else "")
            self.visit(arg, frame)
        self.write(f") if type({tmp} := ")
        self.visit(node.node, frame)
        self.write(f") in _polku_plain_callables and not {tmp}.__dict__ else ")
        # a function whose only attribute asks for the context (pass_context): called with it
        self.write(f"{tmp}(context")
        for arg in node.args:
            self.write(", ")
            self.visit(arg, frame)
        self.write(f") if type({tmp}) is _polku_function and {tmp}.__dict__ == _polku_pass_context else ")
        self.write("environment.call(context, " if self.environment.sandboxed else "context.call(")
        self.write(tmp)
        for arg in node.args:
            self.write(", ")
            self.visit(arg, frame)
        self.write("))")

    def _output_child_pre(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape or finalize.src is not None \
                or _escape_inner is None:
            self._escape_names.append(None)
            return super()._output_child_pre(node, frame, finalize)
        tmp = self.temporary_identifier()
        self._escape_names.append(tmp)
        self.write(f"(_polku_new(_polku_markup, _polku_escape_str({tmp})) if type({tmp} := ")

    def _output_child_post(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        tmp = self._escape_names.pop()
        if tmp is None:
            return super()._output_child_post(node, frame, finalize)
        self.write(f") is str else escape({tmp}))")


class _ConstNames(NodeTransformer):
    """Reads of the given names replaced by (copies of) their constants."""

    def __init__(self, consts: dict):
        self.consts = consts

    def visit_Name(self, node: nodes.Name) -> nodes.Node:
        if node.ctx == "load" and node.name in self.consts:
            return nodes.Const(self.consts[node.name].value, lineno=node.lineno)
        return node


class _OutputMerger(NodeTransformer):
    """Consecutive outputs in one statement list become one (Jinja then joins their texts)."""

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> nodes.Node:
        node = super().generic_visit(node, *args, **kwargs)
        for field, value in node.iter_fields():
            if isinstance(value, list) and value and isinstance(value[0], nodes.Node):
                merged: list = []
                for item in value:
                    if isinstance(item, nodes.Output) and merged and isinstance(merged[-1], nodes.Output):
                        merged[-1] = nodes.Output(merged[-1].nodes + item.nodes, lineno=merged[-1].lineno)
                    else:
                        merged.append(item)
                setattr(node, field, merged)
        return node


def _hoisted_loads(tree: nodes.Template) -> list:
    """An output that never runs (``{% if false %}``), naming every variable the template reads
    outside the names an inlined building block binds: Jinja then looks each up once, at the
    start, and the inner scopes use that, instead of looking it up again in every scope."""
    free: dict[str, None] = {}

    def walk(node: nodes.Node, bound: frozenset) -> None:
        if isinstance(node, nodes.Name):
            if node.ctx == "load" and node.name not in bound:
                free.setdefault(node.name)
            return
        if isinstance(node, nodes.With):
            for value in node.values:
                walk(value, bound)
            inner = bound | {t.name for t in node.targets}
            for stmt in node.body:
                walk(stmt, inner)
            return
        if isinstance(node, (nodes.CallBlock, nodes.Macro)):
            inner = bound | {a.name for a in node.args} | {"caller", "varargs", "kwargs"}
            if isinstance(node, nodes.CallBlock):
                walk(node.call, bound)
            for d in node.defaults:
                walk(d, bound)
            for stmt in node.body:
                walk(stmt, inner)
            return
        for child in node.iter_child_nodes():
            walk(child, bound)

    walk(tree, frozenset())
    for node in tree.find_all(nodes.Assign):  # set at the top level (e.g. t = ui(locale)): no lookup needed
        for target in node.find_all(nodes.Name):
            if target.ctx == "store":
                free.pop(target.name, None)
    if not free:
        return []
    return [nodes.If(nodes.Const(False), [nodes.Output([nodes.Name(n, "load") for n in free])], [], [])]


class _KnownFolder(NodeTransformer):
    """Known names as constants (``names``), string attributes of known dicts (``attrs``)
    too; an ``if`` whose test is then constant keeps only the branch taken."""

    def __init__(self, names: dict, attrs: dict, eval_ctx: EvalContext):
        self.names = names
        self.attrs = attrs
        self.eval_ctx = eval_ctx

    def visit_Name(self, node: nodes.Name) -> nodes.Node:
        if node.ctx == "load" and node.name in self.names:
            return nodes.Const(self.names[node.name], lineno=node.lineno)
        return node

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        target = node.node
        if isinstance(target, nodes.Name) and target.ctx == "load" and target.name in self.attrs:
            attr = node.attr
            values = self.attrs[target.name]
            # what getattr answers for a read-only dict and a name that is not a dict attribute
            if not attr.startswith("_") and attr not in DICT_ATTRIBUTES and type(values.get(attr)) is str:
                return nodes.Const(values[attr], lineno=node.lineno)
        return self.generic_visit(node)

    def visit_If(self, node: nodes.If) -> Any:
        # The elif branches are If nodes too, but not statements: fold their parts, not them.
        for branch in (node, *node.elif_):
            branch.test = self.visit(branch.test)
            branch.body = self._body(branch.body)
        node.else_ = self._body(node.else_)
        branches = [(node.test, node.body)] + [(e.test, e.body) for e in node.elif_]
        for test, body in branches:
            try:
                value = test.as_const(self.eval_ctx)
            except Impossible:
                return node  # a test that depends on data: keep the whole if as it is
            if value:
                return body
        return node.else_


    def _body(self, body: list) -> list:
        out: list = []
        for stmt in body:
            new = self.visit(stmt)
            if isinstance(new, list):
                out.extend(new)
            elif new is not None:
                out.append(new)
        return out


def _walk(node: nodes.Node):  # noqa: D103 - the node and all below it
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _blocks_in(node: nodes.Node):
    for n in _walk(node):
        if isinstance(n, nodes.Block):
            yield n


def _self_block_call(expr: nodes.Node) -> str | None:
    """``self.NAME()`` (no arguments) -> NAME."""
    if (isinstance(expr, nodes.Call) and not expr.args and not expr.kwargs and expr.dyn_args is None
            and expr.dyn_kwargs is None and isinstance(expr.node, nodes.Getattr)
            and isinstance(expr.node.node, nodes.Name) and expr.node.node.name == "self"):
        return expr.node.attr
    return None
