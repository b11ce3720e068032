"""Response member names worked out once: moto serialises every response member by asking six alias providers, for each member of each
item, which names the value may have in the Python object. For a plain dict those names depend
only on the member's key, its shape and the shape's parent; they are worked out once per (picker
kind, key, shape, parent) and tried in the same order.

Target: moto.core.serialize.AttributePicker.__call__ (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +8 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/integration/test_twin_direct.py (responses compared).
"""

from __future__ import annotations


def apply() -> None:
    from moto.core import serialize as ser_mod
    from moto.core.utils import get_value

    original_pick = ser_mod.AttributePicker.__call__
    names: dict = {}

    def pick(self, context):
        obj = context.obj
        if type(obj) is not dict:
            return original_pick(self, context)
        shape = context.shape
        parent = getattr(shape, "parent", None)
        cache_key = (type(self), tuple(self.alias_providers), context.key, id(shape), id(parent))
        hit = names.get(cache_key)
        if hit is None or hit[0] is not shape or hit[1] is not parent:
            hit = names[cache_key] = (shape, parent, tuple(self.get_possible_keys(context)))
        for possible_key in hit[2]:
            value = get_value(obj, possible_key, ser_mod.MISSING)
            if value is not ser_mod.MISSING:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    value = transform(value)
                    break
        return value

    ser_mod.AttributePicker.__call__ = pick
