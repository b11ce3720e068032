"""Loads the link-signing key ring from Secrets Manager (cached briefly, so a rotation
reaches warm functions within minutes)."""

from __future__ import annotations

import datetime as dt
import threading

from polku import clock
from polku.messaging.links import KeyRing

CACHE_SECONDS = 300
_lock = threading.Lock()
_cache: dict[str, tuple[dt.datetime, KeyRing]] = {}


def key_ring(secret_arn: str, client_factory) -> KeyRing:
    if not secret_arn:
        raise RuntimeError("LINK_SECRET_ARN is not set: links cannot be signed")
    now = clock.now()
    with _lock:
        hit = _cache.get(secret_arn)
        if hit and (now - hit[0]).total_seconds() < CACHE_SECONDS:
            return hit[1]
    value = client_factory("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    ring = KeyRing.from_secret(value)
    with _lock:
        _cache[secret_arn] = (now, ring)
    return ring


def forget() -> None:
    with _lock:
        _cache.clear()
