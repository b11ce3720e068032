"""Identity tokens: the shop's backend vouches that a browser belongs to a customer. Pure.

A browser may link itself to a customer (``POST /v1/identify``) only with a token the
shop's backend minted for that customer (the pattern of Intercom's identity
verification and Braze's SDK authentication)::

    token = "<expires>.<signature>"
    expires   = Unix time (seconds) after which the token is refused (at most 24 h ahead)
    signature = hex(HMAC-SHA256(site_secret, "polku-identity-v1|<site_key>|<customer_id>|<expires>"))

Each site has its own secret, derived from the stack's identity key ring (the Secrets
Manager secret ``IdentitySecret``, ``{"active": "k1", "k1": "..."}``)::

    site_secret = hex(HMAC-SHA256(key, "polku-identity-site|<site_key>"))

so a shop that holds one site's secret cannot mint tokens for another site. Rotation: add
a key to the ring and make it active; tokens signed with a secret derived from any key of
the ring verify until they expire. Signatures are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Mapping

from polku import key_ring
from polku.tracking.validation import Invalid

FIELD = "identity_token"
MAX_LIFETIME_SECONDS = 24 * 3600
_TOKEN = re.compile(r"([0-9]{1,12})\.([0-9a-f]{64})")


class IdentitySecretError(ValueError):
    """The identity secret in Secrets Manager is not a usable key ring (the message says why)."""


@dataclass(frozen=True)
class IdentityKeys:
    active: str
    keys: Mapping[str, bytes]

    @classmethod
    def from_secret(cls, secret) -> "IdentityKeys":
        """Parse ``{"active": "k1", "k1": "...", ...}`` (a JSON string or a dict; polku.key_ring)."""
        return cls(*key_ring.parse(secret, "identity secret", IdentitySecretError))

    def site_secret(self, site_key: str, kid: str | None = None) -> str:
        """The secret a site's backend signs with (the active key's unless ``kid`` is given)."""
        return site_secret(self.keys[kid or self.active], site_key)

    def site_secrets(self, site_key: str) -> list[str]:
        """Every secret a token of this site may be signed with (the active key's first)."""
        order = [self.active] + sorted(k for k in self.keys if k != self.active)
        return [site_secret(self.keys[k], site_key) for k in order]


def site_secret(key: bytes, site_key: str, purpose: str = "polku-identity-site") -> str:
    """One site's secret for one purpose (identity tokens; server API keys: ``polku-server-key``)."""
    return hmac.new(key, f"{purpose}|{site_key}".encode("utf-8"), hashlib.sha256).hexdigest()


def message(site_key: str, customer_id: str, expires: int) -> bytes:
    return f"polku-identity-v1|{site_key}|{customer_id}|{int(expires)}".encode("utf-8")


def mint(secret: str, site_key: str, customer_id: str, expires: int) -> str:
    """The token for ``customer_id`` on ``site_key``, valid until ``expires`` (Unix seconds).
    This is what the shop's backend does (docs/privacy.md has Python and JavaScript)."""
    sig = hmac.new(secret.encode("utf-8"), message(site_key, customer_id, expires), hashlib.sha256).hexdigest()
    return f"{int(expires)}.{sig}"


def verify(token, keys: IdentityKeys | None, site_key: str | None, customer_id: str, now: float) -> None:
    """Raise :class:`Invalid` (field ``identity_token``) unless ``token`` proves ``customer_id``
    on ``site_key`` now. ``now`` is Unix seconds (from the one clock)."""
    if token is None or token == "":
        raise Invalid(FIELD, "is missing: identify needs a token from your server (docs/privacy.md)")
    if not isinstance(token, str) or len(token) > 100:
        raise Invalid(FIELD, "is invalid: must be a string <expires>.<signature>")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise Invalid(FIELD, "is invalid: must be <expires>.<64 hex digits of HMAC-SHA256>")
    if keys is None or not site_key:
        raise Invalid(FIELD, "cannot be verified: this API has no identity secret or site key")
    expires = int(match.group(1))
    if expires <= now:
        raise Invalid(FIELD, "has expired: mint a new one on your server")
    if expires > now + MAX_LIFETIME_SECONDS + 300:  # 5 minutes for clock skew
        raise Invalid(FIELD, "is invalid: expires more than 24 hours ahead (mint short-lived tokens)")
    given = match.group(2).encode("ascii")
    ok = False
    for secret in keys.site_secrets(site_key):
        expected = mint(secret, site_key, customer_id, expires).split(".", 1)[1].encode("ascii")
        ok |= hmac.compare_digest(expected, given)  # every key is tried: the time does not tell which
    if not ok:
        raise Invalid(FIELD, "is invalid: its signature does not match this site key and customer_id")
