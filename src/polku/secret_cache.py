"""Adapter: secrets read from Secrets Manager and kept for a few minutes per warm container, so a
rotation reaches warm functions soon without a read on every call. One cache for every key ring
(link signing, identity, server API)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

CACHE_SECONDS = 300
_lock = threading.Lock()
_cache: dict[tuple[str, Callable], tuple[float, Any]] = {}


def load(secret_arn: str, client: Callable[[], Any], parse: Callable[[str], Any]) -> Any:
    """``parse`` of the secret's string, read through ``client()`` at most every CACHE_SECONDS."""
    now = time.monotonic()  # a cache age, not a domain time
    key = (secret_arn, parse)
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = parse(client().get_secret_value(SecretId=secret_arn)["SecretString"])
    with _lock:
        _cache[key] = (now, value)
    return value


def forget() -> None:
    with _lock:
        _cache.clear()
