"""Who may post: the CORS allow-list (ALLOWED_ORIGINS) and the public site keys (SITE_KEYS). Pure.

* A request from a browser carries ``Origin``; it must be in the allow-list
  (``*`` allows any). The answer then carries ``Access-Control-Allow-Origin``
  for exactly that origin. Requests without ``Origin`` (servers, the demo) pass.
* The site key (header ``X-Polku-Site-Key``, or ``site_key`` in the body so that
  ``sendBeacon``/``text/plain`` posts need no preflight) must be one of SITE_KEYS.
  An empty SITE_KEYS accepts any key (local development only).
"""

from __future__ import annotations

from dataclasses import dataclass

from polku.tracking.validation import Invalid

SITE_KEY_HEADER = "x-polku-site-key"
ALLOWED_HEADERS = "Content-Type, X-Polku-Site-Key"
PREFLIGHT_MAX_AGE = "86400"


@dataclass(frozen=True)
class OriginPolicy:
    allowed_origins: tuple[str, ...]
    site_keys: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings) -> "OriginPolicy":
        return cls(tuple(settings.allowed_origin_list), tuple(settings.site_key_list))

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is None or "*" in self.allowed_origins or origin in self.allowed_origins

    def check_origin(self, origin: str | None) -> None:
        if not self.origin_allowed(origin):
            raise Invalid("Origin", "this web origin is not in the allow-list (ALLOWED_ORIGINS)")

    def check_site_key(self, key) -> str | None:
        if not self.site_keys:
            return key if isinstance(key, str) else None
        if key is None:
            raise Invalid("site_key", "is required (body site_key or header X-Polku-Site-Key)")
        if not isinstance(key, str) or key not in self.site_keys:
            raise Invalid("site_key", "is not a known site key")
        return key

    def cors_headers(self, origin: str | None, preflight: bool = False) -> dict:
        if origin is None or not self.origin_allowed(origin):
            return {}
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if preflight:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                }
            )
        return headers
