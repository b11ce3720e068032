"""Error lookup tables built once per service: get_error_model makes a new ErrorLookupFactory (and so a new table of every error shape) for
every error; the factories share one cache.

Target: moto.core.errors.ErrorLookupFactory.__init__ (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: see the table in docs/benchmarks.md (twin patches); test: tests/unit/test_twin_speedups.py::test_error_lookup_tables_are_built_once_per_service.
"""

from __future__ import annotations

# ------------------------------------------------------------ moto error lookup
# moto serialises an error (ConditionalCheckFailed, ResourceNotFound, ...) after looking its code
# up in a table built from all the error shapes of the service; ErrorLookupFactory caches those
# tables per service id, but get_error_model makes a new factory (and so a new table) for every
# error. The factories share one cache: the table depends only on the service's (fixed) model.
_error_luts: dict = {}


def apply() -> None:
    from moto.core import errors as errors_mod

    def init(self):
        self._error_lut_cache = _error_luts

    errors_mod.ErrorLookupFactory.__init__ = init
