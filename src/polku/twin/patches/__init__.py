"""Every speed patch the local twin makes to a library's private internals, in one place.

The twin runs moto, botocore and PynamoDB in one process; a journey simulation makes thousands of
calls through them, and each module in this folder replaces one private piece of one library with
a quicker one that gives the same results (its docstring names the target, the reason and its
test; docs/benchmarks.md, "Twin patches", has the measured gain of each).

* **One switch**: ``POLKU_TWIN_PATCHES`` — unset or ``on``: all on; ``off``: all off (the twin runs
  the libraries as they ship); ``-name,-name``: all on but those. ``POLKU_TWIN_DIRECT=0`` still
  turns the direct lane off alone. tests/statemachines/test_twin_patches_simulation.py runs a
  simulation with all patches off and all on and compares the outputs byte for byte.
* **Only what pays**: benchmarks/twin_patches.py measures each patch off alone against all on; patches
  that saved under 5 % of the simulation's CPU were deleted (a plain deep copy for the interpreter,
  the item-size check, error lookup tables, request ids).
* **Version tripwire**: every patch was written against the library version in :data:`PINNED`
  (the pins of pyproject.toml). :func:`apply_all` refuses to patch another version (a clear error
  that says how to run without patches), and tests/unit/test_twin_patches.py fails when an
  installed version or a pin in pyproject.toml differs from :data:`PINNED`.

Not here: the twin's emulation of AWS itself, which the twin cannot run without (real handlers in
moto's Lambda: lambda_runtime.py; the virtual clock: virtual_time.py; Step Functions status events:
sfn_events.py; stream delivery: streams.py; ASL checks: asl_validation.py; Step Functions versions
and aliases: sfn_versions.py; Distributed Map and redrive: distributed_map.py). Those patch moto too;
they are listed in :data:`EMULATION` and covered by the same version tripwire.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from importlib import metadata

PINNED = {"moto": "5.2.5", "botocore": "1.44.5", "pynamodb": "6.1.0", "jinja2": "3.1.6"}


@dataclass(frozen=True)
class Patch:
    name: str  # the module in this folder and the switch's name
    library: str  # the distribution it patches (a key of PINNED)


SPEED = (
    Patch("botocore_direct_lane", "botocore"),
    Patch("sfn_task_clients", "moto"),
    Patch("sfn_program_cache", "moto"),
    Patch("sfn_jsonpath_cache", "moto"),
    Patch("dynamodb_partition_query", "moto"),
    Patch("dynamodb_serialiser", "moto"),
    Patch("moto_attribute_picker", "moto"),
    Patch("moto_method_names", "moto"),
    Patch("moto_update_expressions", "moto"),
    Patch("botocore_user_agent", "botocore"),
    Patch("pynamodb_connection", "pynamodb"),
)
# The twin's emulation of AWS on moto (polku.twin.<module>): always applied, version-checked.
EMULATION = (
    Patch("lambda_runtime", "moto"),
    Patch("virtual_time", "moto"),
    Patch("sfn_events", "moto"),
    Patch("streams", "moto"),
    Patch("asl_validation", "moto"),
    Patch("sfn_versions", "moto"),
    Patch("distributed_map", "moto"),
)

_lock = threading.Lock()
_applied: list[str] = []


class PatchVersionError(RuntimeError):
    pass


def disabled() -> frozenset[str]:
    """The speed patches the switch turns off."""
    raw = os.environ.get("POLKU_TWIN_PATCHES", "on").strip().lower()
    names = {p.name for p in SPEED}
    if raw in ("", "on", "1", "all"):
        off = set()
    elif raw in ("off", "0", "none"):
        off = set(names)
    else:
        off = set()
        for part in raw.split(","):
            name = part.strip().lstrip("-")
            if name not in names:
                raise ValueError(f"POLKU_TWIN_PATCHES: unknown patch {name!r} (known: {', '.join(sorted(names))})")
            off.add(name)
    if os.environ.get("POLKU_TWIN_DIRECT", "1") in ("0", "false", "no"):
        off.add("botocore_direct_lane")
    return frozenset(off)


def enabled(name: str) -> bool:
    return name not in disabled()


def installed_versions() -> dict[str, str]:
    return {lib: metadata.version(lib) for lib in PINNED}


def check_versions(patches=SPEED + EMULATION) -> None:
    """Refuse to patch a library version the patches were not written for."""
    have = installed_versions()
    wrong = sorted({p.library for p in patches if have[p.library] != PINNED[p.library]})
    if wrong:
        detail = ", ".join(f"{lib} {have[lib]} (patches written for {PINNED[lib]})" for lib in wrong)
        raise PatchVersionError(f"the twin patches private internals of {detail}: pin the versions of "
                                "pyproject.toml, or port the patches in src/polku/twin/patches/ "
                                "(POLKU_TWIN_PATCHES=off runs without the speed patches)")


_BY_NAME = {p.name: p for p in SPEED}
_done = False


def apply_one(name: str) -> None:
    """Apply one speed patch, once (a unit test of that patch; the switch is not consulted)."""
    patch = _BY_NAME[name]
    with _lock:
        if name in _applied:
            return
        check_versions((patch,))
        importlib.import_module(f"{__name__}.{name}").apply()
        _applied.append(name)


def apply_all() -> list[str]:
    """Apply every speed patch the switch leaves on, once (idempotent); the names applied."""
    global _done
    if not _done:
        wanted = [p for p in SPEED if enabled(p.name)]
        check_versions(tuple(wanted) + EMULATION)
        for patch in wanted:
            apply_one(patch.name)
        _done = True
    return list(_applied)


def applied() -> list[str]:
    return list(_applied)
