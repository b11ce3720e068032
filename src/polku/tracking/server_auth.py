"""Who may use the server API (``/v1/server/*``): the shop's backend, with its server key. Pure.

Each site has its own server key, derived from the stack's server key ring (the Secrets
Manager secret ``ServerApiKeySecret``, ``{"active": "k1", "k1": "..."}``)::

    server_key = hex(HMAC-SHA256(key, "polku-server-key|<site_key>"))

sent in the header ``X-Polku-Server-Key`` with the site key (body ``site_key`` or header
``X-Polku-Site-Key``). The server key is a secret: never put it in a web page. Keys derived
from every key of the ring are accepted (rotation); comparisons are constant-time.
"""

from __future__ import annotations

import hmac

from polku.tracking.identity_token import IdentityKeys, site_secret
from polku.tracking.validation import Invalid

HEADER = "X-Polku-Server-Key"
PURPOSE = "polku-server-key"


class Unauthenticated(Invalid):
    """No server key at all (HTTP 401); a wrong one is an :class:`Invalid` (403)."""


def server_key(keys: IdentityKeys, site_key: str, kid: str | None = None) -> str:
    """The server key of ``site_key`` (the active key's unless ``kid`` is given)."""
    return site_secret(keys.keys[kid or keys.active], site_key, PURPOSE)


def check(given, keys: IdentityKeys | None, site_key: str | None) -> None:
    if given is None or given == "":
        raise Unauthenticated(HEADER, "is required: the server API takes your site's secret server key, "
                                      "never the public site key (docs/events.md)")
    if keys is None:
        raise Invalid(HEADER, "cannot be checked: this API has no server key secret (SERVER_KEY_SECRET_ARN)")
    if not site_key:
        raise Invalid("site_key", "is required (body site_key or header X-Polku-Site-Key)")
    raw = given.encode("utf-8", "replace") if isinstance(given, str) else b""
    ok = False
    for kid in [keys.active] + sorted(k for k in keys.keys if k != keys.active):
        ok |= hmac.compare_digest(server_key(keys, site_key, kid).encode("ascii"), raw)
    if not ok:
        raise Invalid(HEADER, "is not this site's server key")
