"""Loads the link-signing key ring from Secrets Manager (cached briefly by polku.secret_cache, so a
rotation reaches warm functions within minutes)."""

from __future__ import annotations

from polku import secret_cache
from polku.messaging.links import KeyRing


def key_ring(secret_arn: str, client_factory) -> KeyRing:
    if not secret_arn:
        raise RuntimeError("LINK_SECRET_ARN is not set: links cannot be signed")
    return secret_cache.load(secret_arn, lambda: client_factory("secretsmanager"), KeyRing.from_secret)


def forget() -> None:
    secret_cache.forget()
