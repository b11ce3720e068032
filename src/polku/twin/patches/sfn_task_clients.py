"""Step Functions task clients: moto's Step Functions interpreter builds a new boto3 client for every Lambda task (tens of
milliseconds each: endpoint resolution, SSL context); one client per (region, service) is kept
(moto ignores per-state credentials anyway).

Target: moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +46 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/statemachines (every journey runs through it).
"""

from __future__ import annotations

import importlib
import sys
import threading

_lock = threading.Lock()
_cache: dict = {}


def clear() -> None:
    """Forget the cached Step Functions task clients (e.g. when the transport changes)."""
    with _lock:
        _cache.clear()


def apply() -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client as bc

    original = bc.boto_client_for

    def cached_boto_client_for(region, service, state_credentials=None):
        # moto 5.2.5's boto_client_for does not use state_credentials (fixed test keys).
        key = (region, service)
        with _lock:
            client = _cache.get(key)
            if client is None:
                client = _cache[key] = original(region, service, None)
        return client

    bc.boto_client_for = cached_boto_client_for
    importlib.import_module("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils")
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = cached_boto_client_for
