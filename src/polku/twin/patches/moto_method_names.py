"""A response class's methods listed once: moto lists a response class's methods (inspect.getmembers) on every request to find the action.

Target: moto.core.responses.method_names_from_class (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +6 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: every twin test.
"""

from __future__ import annotations


def apply() -> None:
    from moto.core import responses as responses_mod

    original_method_names = responses_mod.method_names_from_class
    method_names: dict = {}

    def cached_method_names(clazz):
        names_ = method_names.get(clazz)
        if names_ is None:
            names_ = method_names[clazz] = original_method_names(clazz)
        return names_

    responses_mod.method_names_from_class = cached_method_names
