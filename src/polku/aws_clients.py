"""The one AWS client factory: every adapter asks here for its boto3 client.

A warm Lambda container keeps its clients between invocations (one per service, created on first
use, shared by threads). botocore retries throttling and 5xx with exponential backoff (standard mode)
before an adapter sees an error. The local twin's simulator calls :func:`reset` when it points the
process at another endpoint, so no adapter keeps a client of the previous one.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_clients: dict[str, object] = {}


def _config():
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)


def client(service: str):
    """The process's client for ``service`` (created once)."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                import boto3

                found = _clients[service] = boto3.client(service, config=_config())
    return found


def reset(*services: str) -> None:
    """Forget the clients of ``services`` (all when none is named); the next call creates a new one
    from the current environment (endpoint, credentials)."""
    with _lock:
        for name in services or list(_clients):
            _clients.pop(name, None)
