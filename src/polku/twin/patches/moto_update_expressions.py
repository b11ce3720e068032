"""Quicker checks of DynamoDB update expressions in the twin (moto's results, unchanged).

moto validates every ``UpdateExpression`` by walking its syntax tree with ten processors
(``moto.dynamodb.parsing.validators``). Two things made an ``UpdateItem`` with a dozen
``SET`` actions (the message log's ``finish``, a profile save) cost milliseconds:

* every node type derives from an ``abc.ABCMeta`` class, so each ``isinstance`` check goes
  through ``ABCMeta.__instancecheck__`` -- and the walk makes several per node and per
  processor (``traverse_node_recursively``, ``process``, ``find_clauses``);
* ``ActionCountValidator`` and ``OverlappingPathsValidator`` search the subtree of *every*
  node for its clauses, which is quadratic in the size of the expression.

Here the same walks are done with each ``isinstance`` answer kept per concrete type (no
class in these trees is registered as a virtual subclass, so the answer depends on the type
alone), the processor picked per (processor class, node type) in the order moto's
``_processing_map`` lists them, and the update expression parsed once per expression text.
Every processor, check and error is moto's own; ``tests/unit/test_twin_expression_speedups.py``
compares results and errors with moto's unpatched code.

Measured gain: +27 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_applied = False
_lock = threading.Lock()
_PARSED_MAX = 2048


def apply() -> None:
    """Patch moto's update-expression walk (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
    from moto.dynamodb.parsing import ast_nodes
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    Node = ast_nodes.Node
    Expression = ast_nodes.Expression
    Function = ast_nodes.UpdateExpressionFunction
    Traverser = ast_nodes.DepthFirstTraverser

    # -- isinstance answers per concrete type ------------------------------------
    is_node, _is_node = _subclass_answers(Node)
    descends, _descends = _subclass_answers((Expression, Function))  # where find_clauses looks further

    def find_clauses(self, clause_types):
        # Node.find_clauses: children of the listed types are taken (not searched further);
        # Expression and UpdateExpressionFunction children are searched, in order.
        clauses = []
        for child in self.children or []:
            kind = type(child)
            if kind in clause_types:
                clauses.append(child)
            elif descends.get(kind) or (kind not in descends and _descends(kind)):
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    # -- the processor for a node: the first key of _processing_map it is an instance of
    # Per traverser class: {node type: map key or None}; None for a traverser whose
    # nodes_to_be_processed() does not list its map's keys (it keeps moto's own walk).
    tables: dict[type, dict | None] = {}

    def _table(traverser) -> dict | None:
        cls = type(traverser)
        if cls not in tables:
            keys = tuple(traverser.nodes_to_be_processed())
            tables[cls] = {} if keys == tuple(traverser._processing_map().keys()) else None
        return tables[cls]

    def _processor_key(traverser, table: dict, kind: type):
        for candidate in traverser.nodes_to_be_processed():
            if issubclass(kind, candidate):
                table[kind] = candidate
                return candidate
        table[kind] = None
        return None

    original_traverse = Traverser.traverse_node_recursively
    _unknown = object()

    def traverse_node_recursively(self, node, child_id=-1):
        kind = type(node)
        if not (is_node.get(kind) or (kind not in is_node and _is_node(kind))):
            return node
        table = tables.get(type(self), _unknown)
        if table is _unknown:
            table = _table(self)
        if table is None:  # an unusual traverser: moto's own walk
            return original_traverse(self, node, child_id)
        parent_node = node.parent
        children = node.children
        if children is not None:
            pre = self.pre_processing_of_child
            for i, child_node in enumerate(children):
                pre(node, i)
                self.traverse_node_recursively(child_node, i)
        key = table.get(kind, _unknown)
        if key is _unknown:
            key = _processor_key(self, table, kind)
        if key is not None:
            node = self._processing_map()[key](node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    # -- the update expression parsed once per text -------------------------------
    # Every caller only reads the parsed tree (find_clauses) or hands it to the validator,
    # which works on its own deep copy; so one tree per expression text is shared.
    parsed: dict[str, Any] = {}
    original_make = UpdateExpressionParser.make.__func__
    UpdateExpressionParser._polku_moto_make = classmethod(original_make)  # moto's own parse (tests compare)

    def make(cls, expression_str):
        if cls is not UpdateExpressionParser or type(expression_str) is not str:
            return original_make(cls, expression_str)
        tree = parsed.get(expression_str)
        if tree is None:
            tree = original_make(cls, expression_str)  # a syntax error raises here, each time
            with _lock:
                if len(parsed) >= _PARSED_MAX:
                    parsed.clear()
                    static_ok.clear()
                parsed[expression_str] = tree
        return tree

    # -- deep copies of syntax trees -----------------------------------------------
    # copy.deepcopy of a Node goes through __reduce_ex__, copyreg and _reconstruct; for node
    # classes without copy hooks of their own this does the same steps directly: a new instance
    # of the class registered in the memo, then a deep copy of its __dict__ (itself registered,
    # keys and values copied in order, the original kept alive) set on it. A class with hooks
    # (__slots__, __getstate__, __reduce__, its own __deepcopy__, ...) takes deepcopy's own path.
    import copyreg

    plain: dict[type, bool] = {}

    def _plain(cls) -> bool:
        found = plain.get(cls)
        if found is None:
            found = plain[cls] = (
                cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
                and getattr(cls, "__getstate__", object.__getstate__) is object.__getstate__
                and not hasattr(cls, "__setstate__") and cls.__deepcopy__ is node_deepcopy
                and not any("__slots__" in c.__dict__ for c in cls.__mro__)
                and not hasattr(cls, "__getnewargs__") and not hasattr(cls, "__getnewargs_ex__")
                and cls not in copyreg.dispatch_table and cls.__new__ is object.__new__
            )
        return found

    def node_deepcopy(self, memo):
        cls = type(self)
        if not _plain(cls):  # what copy.deepcopy does for an object without __deepcopy__
            reductor = copyreg.dispatch_table.get(cls)
            return copy._reconstruct(self, memo, *(reductor(self) if reductor is not None else self.__reduce_ex__(4)))
        new = cls.__new__(cls)
        memo[id(self)] = new
        state = self.__dict__
        deepcopy = copy.deepcopy
        copied: dict = {}
        memo[id(state)] = copied
        for k, v in state.items():
            copied[k if type(k) in _ATOMIC else deepcopy(k, memo)] = v if type(v) in _ATOMIC else deepcopy(v, memo)
        memo.setdefault(id(memo), []).append(state)
        new.__dict__.update(copied)
        return new

    # -- checks that depend on the expression alone ----------------------------------
    # The validator's first three processors (clause counts, overlapping paths, no key
    # attribute updated) read only the tree, the attribute names and the table's key
    # attributes, and return every node unchanged. Once they pass for a parsed tree with
    # the same names and key attributes they pass again, so they are not walked again.
    from moto.dynamodb.parsing.validators import (
        ActionCountValidator,
        OverlappingPathsValidator,
        UpdateExpressionValidator,
        UpdateHashRangeKeyValidator,
    )

    static_kinds = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
    static_ok: dict[int, tuple[Any, set]] = {}  # id(parsed tree) -> (tree, passed keys)
    original_init = UpdateExpressionValidator.__init__
    original_validate = UpdateExpressionValidator.validate

    def init(self, expression, expression_attribute_names, expression_attribute_values, item, table):
        original_init(self, expression, expression_attribute_names, expression_attribute_values, item, table)
        self._polku_source = expression

    def validate(self):
        kinds = tuple(type(p) for p in self.processors[:3])
        source = self.__dict__.get("_polku_source")
        names = self.expression_attribute_names or {}
        try:
            key = (tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
            hash(key)
        except TypeError:
            key = None
        if kinds != static_kinds or key is None or source is None:
            return original_validate(self)
        entry = static_ok.get(id(source))
        known = entry is not None and entry[0] is source and key in entry[1]
        n = self.node_to_validate
        for i, processor in enumerate(self.processors):
            if i < 3 and known:
                continue
            n = processor.traverse(n)
            if i == 2 and not known:  # the entry keeps the tree alive, so its id is not reused
                with _lock:
                    if len(static_ok) >= _PARSED_MAX:
                        static_ok.clear()
                    static_ok.setdefault(id(source), (source, set()))[1].add(key)
        return n

    Node.find_clauses = find_clauses
    Node.__deepcopy__ = node_deepcopy
    Traverser.traverse_node_recursively = traverse_node_recursively
    UpdateExpressionParser.make = classmethod(make)
    UpdateExpressionValidator.__init__ = init
    UpdateExpressionValidator.validate = validate


def _subclass_answers(bases) -> tuple[dict, Any]:
    """({type: issubclass(type, bases)}, the function that fills it): isinstance for these
    trees' classes, answered once per type (the dict is read directly on hot paths)."""
    answers: dict[type, bool] = {}

    def answer(kind: type) -> bool:
        hit = answers.get(kind)
        if hit is None:
            hit = answers[kind] = issubclass(kind, bases)
        return hit

    return answers, answer


# The types copy.deepcopy returns as they are (its own table, not a copy of it).
_ATOMIC = frozenset(t for t, f in copy._deepcopy_dispatch.items() if f is copy._deepcopy_atomic)
