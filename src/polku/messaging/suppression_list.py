"""The suppression list (adapter over the suppressions table), keyed by a salted hash of the address.

An address that bounced, complained or unsubscribed must never get marketing again, even after
the customer's data is erased (``polku customers erase``). So the table does not hold the
address: its key is ``h1:`` + HMAC-SHA256(salt, ``"<channel>:<address>"``), the salt a stack
secret in Secrets Manager (``SuppressionSaltSecret``, env ``SUPPRESSION_SALT_SECRET_ARN``) that
never changes (a new salt would forget every opt-out). Nobody without the salt can tell which
address a row blocks; Send, SES feedback and unsubscribe hash the address the same way here.
A row keeps why and when (``reason``, ``created_at``, ``detail``) and the message that caused
it (``message_id``) until the customer is erased (:func:`anonymise`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Callable, Iterable

from polku import aws_clients, clock, secret_cache
from polku.data import suppressions
from polku.settings import get_settings

HASH_PREFIX = "h1:"
MIN_SALT_CHARS = 16


class SaltError(RuntimeError):
    """The suppression salt secret is missing or not usable (the message names it)."""


def address_key(channel: str, address: str) -> str:
    """``("email", "Ann@Example.com")`` -> ``"email:ann@example.com"``."""
    address = address.strip()
    if channel == "email":
        address = address.lower()
    return f"{channel}:{address}"


def _parse_salt(text: str) -> bytes:
    try:
        salt = json.loads(text).get("salt")
    except (TypeError, ValueError, AttributeError):
        raise SaltError("SUPPRESSION_SALT_SECRET_ARN: the secret must be JSON {\"salt\": \"...\"}") from None
    if not isinstance(salt, str) or len(salt) < MIN_SALT_CHARS:
        raise SaltError(f"SUPPRESSION_SALT_SECRET_ARN: 'salt' must be a string of at least {MIN_SALT_CHARS} characters")
    return salt.encode("utf-8")


def load_salt(secret_arn: str, client_factory: Callable[[str], object]) -> bytes:
    """The salt from the secret ``secret_arn`` (cached briefly, like the key rings)."""
    if not secret_arn:
        raise SaltError("SUPPRESSION_SALT_SECRET_ARN is not set: the suppression list cannot be read or written")
    return secret_cache.load(secret_arn, lambda: client_factory("secretsmanager"), _parse_salt)


def _salt(salt: bytes | None) -> bytes:
    return salt if salt is not None else load_salt(get_settings().suppression_salt_secret_arn, aws_clients.client)


def hashed(key: str, salt: bytes | None = None) -> str:
    """The stored key of the address key ``key`` (``"email:ann@example.com"`` -> ``"h1:<64 hex>"``)."""
    return HASH_PREFIX + hmac.new(_salt(salt), key.encode("utf-8"), hashlib.sha256).hexdigest()


def is_suppressed(key: str, *, salt: bytes | None = None) -> bool:
    return suppressions.find(hashed(key, salt)) is not None


def suppress(key: str, reason: str, *, message_id: str | None = None, detail: str | None = None,
             salt: bytes | None = None) -> bool:
    """Add the address ``key`` (first reason wins). True if it was not suppressed before."""
    return suppressions.add_once(hashed(key, salt), reason=reason, created_at=clock.now_iso(), message_id=message_id,
                                 detail=detail)


def _rows(keys: Iterable[str], salt: bytes) -> list[tuple[str, suppressions.SuppressionModel]]:
    """(address key, row) of each of ``keys`` on the list: its hashed row, or a row of the earlier
    format keyed by the plain address."""
    found = []
    for key in dict.fromkeys(keys):
        for stored in (hashed(key, salt), key):
            row = suppressions.find(stored)
            if row is not None:
                found.append((key, row))
    return found


def export(keys: Iterable[str], *, salt: bytes | None = None) -> list[dict]:
    """The rows that block the addresses ``keys``, each with the address it blocks."""
    return [{"address": key, "stored_key": row.address, "reason": row.reason, "created_at": row.created_at,
             "message_id": row.message_id, "detail": row.detail}
            for key, row in _rows(keys, _salt(salt))]


def anonymise(keys: Iterable[str], *, salt: bytes | None = None) -> int:
    """Keep the opt-outs of the addresses ``keys`` but nothing that leads to the person: the row is
    keyed by the salted hash only, without the customer or the message. How many rows changed."""
    salt = _salt(salt)
    changed = 0
    for key, row in _rows(keys, salt):
        if row.address == key:  # the earlier format: the plain address is the key
            suppressions.add_once(hashed(key, salt), reason=row.reason, created_at=row.created_at, detail=row.detail)
            suppressions.delete(row)
            changed += 1
        elif row.message_id is not None or row.customer_id is not None:
            suppressions.forget_source(row)
            changed += 1
    return changed


def hash_earlier_rows(*, salt: bytes | None = None) -> int:
    """Rewrite every row of the earlier format (keyed by the plain address) under its salted hash;
    run once after upgrading (``polku customers hash-suppressions``). How many rows were rewritten."""
    plain = [address for address in suppressions.addresses() if not address.startswith(HASH_PREFIX)]
    return anonymise(plain, salt=salt)
