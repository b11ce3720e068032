"""Signed tokens for the open pixel, click redirects and one-click unsubscribe.

A token is ``<payload>.<key id>.<mac>``: the payload is compact JSON (base64url), the
MAC is HMAC-SHA256 over ``<key id>.<payload>`` with the key named by the key id,
truncated to 128 bits (base64url). The keys come from the ``LinkSigningSecret``
JSON ``{"active": "k1", "k1": "...", "k2": "..."}``: new tokens are signed with the
active key, any key still listed verifies. Rotate by adding ``k2`` and making it
active; remove ``k1`` once its links no longer matter.

Every token names its purpose (``o`` open, ``c`` click, ``u`` unsubscribe), so an open
token cannot be replayed as an unsubscribe. A click token carries the destination
URL inside the signed payload, so the redirect goes only where Polku put the link:
changing the URL breaks the MAC (no open redirect), and only ``http``/``https``
destinations are accepted at signing and at verification.

Destinations are normalised before they are signed (:func:`safe_destination`): the host
in IDNA (``bücher.example`` -> ``xn--bcher-kva.example``), the path, query and fragment
percent-encoded as UTF-8 (``/tuotteet/pähkinä`` -> ``/tuotteet/p%C3%A4hkin%C3%A4``), so the
``Location`` header is plain ASCII. A URL holding a control, format or line-separator
character (``\x00``, ``\x0b``, ``\u2028``, bidi overrides), a space or a backslash is
refused (:class:`UnsafeDestination`) — at signing, and again at a click on a token signed
before this rule.

An unsubscribe token carries only the message id (``{"k": "u", "m": ...}``): nothing about
the recipient is readable in the URL; the address, customer, channel and journey are
resolved through the message log (``link_actions``). Tokens made before carry the address
themselves (``"a"``) and are still accepted, so every unsubscribe link ever sent works.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _json_str
import unicodedata
from typing import Any, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from polku import key_ring

KINDS = {"o": "open", "c": "click", "u": "unsubscribe"}
PATHS = {"o": "/v1/o/", "c": "/v1/c/", "u": "/v1/unsubscribe/"}
MAX_TOKEN_CHARS = 4096
MAC_BYTES = 16


class LinkError(ValueError):
    """The token is malformed, forged, for another purpose, or points somewhere unsafe."""


class UnsafeDestination(LinkError):
    """The destination URL is not a plain absolute http(s) URL (control characters, no host, ...)."""


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64e(raw: bytes) -> str:
    """base64url without padding (``base64.urlsafe_b64encode`` without its two Python layers)."""
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", text):
        raise LinkError("token: not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact_json(claims: Mapping[str, Any]) -> str:
    """``json.dumps(claims, separators=(",", ":"), sort_keys=True)``, quicker for the
    common case of string keys and string values (the output is the same, byte for byte:
    the same C string encoder; a test compares the two)."""
    try:
        return "{" + ",".join([_json_str(k) + ":" + _json_str(claims[k]) for k in sorted(claims)]) + "}"
    except TypeError:  # a key or value that is not a string
        return json.dumps(claims, separators=(",", ":"), sort_keys=True)


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_states(key: bytes, prefix: bytes) -> tuple:
    """(inner, outer) SHA-256 states of HMAC with ``key``, the inner one fed ``prefix``."""
    if len(key) > 64:  # the SHA-256 block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD))
    inner.update(prefix)
    return inner, hashlib.sha256(key.translate(_OPAD))


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: Mapping[str, bytes]
    # Per key: HMAC-SHA256's inner and outer states (the key schedule done once); each MAC copies them.
    _states: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_secret(cls, secret: str | Mapping[str, Any]) -> "KeyRing":
        """Parse ``{"active": "k1", "k1": "...", ...}`` (a JSON string or a dict; polku.key_ring)."""
        return cls(*key_ring.parse(secret, "link signing secret", LinkError))

    def _mac(self, kid: str, payload: str) -> str:
        """HMAC-SHA256(key, ``kid.payload``) truncated, from the key's precomputed inner and
        outer SHA-256 states (RFC 2104; a test checks it against ``hmac.new``)."""
        states = self._states.get(kid)
        if states is None:
            states = self._states[kid] = _hmac_states(self.keys[kid], f"{kid}.".encode("ascii"))
        inner = states[0].copy()
        inner.update(payload.encode("ascii"))
        outer = states[1].copy()
        outer.update(inner.digest())
        return _b64e(outer.digest()[:MAC_BYTES])

    def sign(self, claims: Mapping[str, Any]) -> str:
        return self.sign_payload(_b64e(_compact_json(claims).encode("utf-8")))

    def sign_payload(self, payload: str) -> str:
        """The token for an already encoded payload (base64url of the compact JSON claims)."""
        return f"{payload}.{self.active}.{self._mac(self.active, payload)}"

    def verify(self, token: str) -> dict:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise LinkError("token: missing or too long")
        parts = token.split(".")
        if len(parts) != 3:
            raise LinkError("token: malformed")
        payload, kid, mac = parts
        if kid not in self.keys:
            raise LinkError("token: unknown key")
        if not hmac.compare_digest(self._mac(kid, payload), mac):
            raise LinkError("token: bad signature")
        try:
            claims = json.loads(_b64d(payload))
        except ValueError:
            raise LinkError("token: bad payload") from None
        if not isinstance(claims, dict):
            raise LinkError("token: bad payload")
        return claims


def safe_destination(url: Any) -> str:
    """The normalised URL (IDNA host, percent-encoded path, query and fragment) if it is an
    absolute http(s) URL with a host and no control characters, else :class:`UnsafeDestination`."""
    if not isinstance(url, str) or len(url) > 2048:
        raise UnsafeDestination("destination: not a plain URL (a string of at most 2048 characters)")
    out = _normalise(url)
    if out.startswith("destination:"):
        raise UnsafeDestination(out)
    return out


# Characters that stay as they are in each part (RFC 3986 unreserved + sub-delims + the part's
# own delimiters, and "%" so existing escapes are kept); everything else is UTF-8 percent-encoded.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ASCII_HOST = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?")
# IDNA 2003 (Python's codec) and IDNA 2008 / UTS 46 (browsers) map these differently
# (``straße`` -> ``strasse`` vs ``xn--strae-oqa``): such hosts must be given in punycode.
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


def _bad_char(url: str) -> str | None:
    for i, c in enumerate(url):
        if c == "\\":
            return f"destination: holds a backslash at {i} (browsers read it as /)"
        if c == " " or (not c.isascii() or c < " " or c == "\x7f") and unicodedata.category(c) in (
                "Cc", "Cf", "Zl", "Zp", "Zs", "Cs", "Co", "Cn"):
            return f"destination: holds a control, format, space or line-separator character (U+{ord(c):04X}) at {i}"
    return None


def _quote(text: str, safe: str) -> str:
    return quote(_LONE_PERCENT.sub("%25", text), safe=safe)


def _idna_host(host: str) -> str:
    if host.isascii():
        if not _ASCII_HOST.fullmatch(host):
            raise ValueError(f"destination: host {host[:80]!r} is not a valid host name")
        return host
    if any(c in _IDNA_DEVIATIONS for c in host):
        raise ValueError(f"destination: host {host[:80]!r} needs IDNA 2008; write it in punycode (xn--...)")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"destination: host {host[:80]!r} is not a valid international domain name") from None


@lru_cache(maxsize=8192)
def _normalise(url: str) -> str:
    """The normalised URL, or the reason it is refused (a string starting "destination:")."""
    problem = _bad_char(url)
    if problem:
        return problem
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "destination: not a URL (bad host or port)"
    if parts.scheme not in ("http", "https") or not host:
        return f"destination: only absolute http(s) URLs are allowed, got {url[:80]!r}"
    if parts.username is not None or parts.password is not None:
        return "destination: user names and passwords in links are not allowed"
    if ":" in host:  # an IPv6 literal (urlsplit checked the brackets)
        netloc = f"[{host}]"
    else:
        try:
            netloc = _idna_host(host)
        except ValueError as exc:
            return str(exc)
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, _quote(parts.path, _PATH_SAFE), _quote(parts.query, _QUERY_SAFE),
                       _quote(parts.fragment, _QUERY_SAFE)))


@dataclass(frozen=True)
class LinkClaims:
    kind: str  # "open" | "click" | "unsubscribe"
    message_id: str
    customer_id: str
    channel: str = "email"
    url: str | None = None  # click destination
    # unsubscribe: the suppression key, e.g. "email:ann@example.com" (only in tokens made before
    # the opaque format; new tokens resolve it through the message log)
    address: str | None = None
    journey: str | None = None


class LinkSigner:
    """Builds and checks the links of one message."""

    def __init__(self, ring: KeyRing, base_url: str):
        self.ring = ring
        self.base_url = base_url.rstrip("/")
        self._last_head: tuple | None = None

    def _claims(self, kind: str, message_id: str, customer_id: str, channel: str, journey: str | None) -> dict:
        claims = {"k": kind, "m": message_id, "c": customer_id}
        if channel != "email":
            claims["ch"] = channel
        if journey:
            claims["j"] = journey
        return claims

    def open_url(self, message_id: str, customer_id: str, *, channel: str = "email", journey: str | None = None) -> str:
        head = self._head(message_id, customer_id, channel, journey)
        if head is not None:  # the same claims JSON as _claims + json.dumps make
            return self.base_url + PATHS["o"] + self.ring.sign_payload(
                _b64e(("{" + head[0] + ',"k":"o","m":' + head[1] + "}").encode("ascii")))
        return self.base_url + PATHS["o"] + self.ring.sign(self._claims("o", message_id, customer_id, channel, journey))

    def click_url(
        self, url: str, message_id: str, customer_id: str, *, channel: str = "email", journey: str | None = None
    ) -> str:
        dest = safe_destination(url)
        head = self._head(message_id, customer_id, channel, journey)
        if head is not None:  # the same claims JSON as below, with this message's part written once
            payload = _b64e((head[2] + _json_str(dest) + "}").encode("ascii"))
            return self.base_url + PATHS["c"] + self.ring.sign_payload(payload)
        claims = self._claims("c", message_id, customer_id, channel, journey)
        claims["u"] = dest
        return self.base_url + PATHS["c"] + self.ring.sign(claims)

    def _head(self, message_id: Any, customer_id: Any, channel: Any, journey: Any) -> tuple | None:
        """The parts of a token's compact, key-sorted claims JSON (as ``_claims`` +
        ``json.dumps`` make them) that one message's links share: ``"c":..[,"ch":..][,"j":..]``,
        the message id as JSON, and a click token's JSON up to its URL. The links of one
        message are made together, so the last one is kept. None if a value is not a
        string (the general path handles it); tests compare both paths."""
        key = (message_id, customer_id, channel, journey)
        last = self._last_head
        if last is not None and last[0] == key:
            return last[1]
        if not (type(message_id) is str and type(customer_id) is str and type(channel) is str
                and (journey is None or type(journey) is str)):
            return None
        head = '"c":' + _json_str(customer_id)
        if channel != "email":
            head += ',"ch":' + _json_str(channel)
        if journey:
            head += ',"j":' + _json_str(journey)
        mid = _json_str(message_id)
        parts = (head, mid, "{" + head + ',"k":"c","m":' + mid + ',"u":')
        self._last_head = (key, parts)
        return parts

    def unsubscribe_url(
        self, address: str, message_id: str, customer_id: str, *, channel: str = "email", journey: str | None = None
    ) -> str:
        """The message's unsubscribe link. Only the (opaque) message id goes into the token;
        ``address``, ``customer_id``, ``channel`` and ``journey`` are what the message log
        holds for it (the signature is kept for callers)."""
        if not isinstance(message_id, str) or not message_id:
            raise LinkError("message_id: required for an unsubscribe link")
        return self.base_url + PATHS["u"] + quote(self.ring.sign({"k": "u", "m": message_id}), safe=".-_")

    def verify(self, token: str, kind: str) -> LinkClaims:
        """Check a token taken from a ``/v1/o|c|unsubscribe/{token}`` path for ``kind``."""
        claims = self.ring.verify(token)
        code = claims.get("k")
        if KINDS.get(code) != kind:
            raise LinkError(f"token: not a {kind} token")
        message_id, customer_id = claims.get("m"), claims.get("c")
        if not isinstance(message_id, str) or not message_id:
            raise LinkError("token: incomplete")
        address = claims.get("a")
        opaque_unsubscribe = kind == "unsubscribe" and "a" not in claims and "c" not in claims
        if opaque_unsubscribe:
            customer_id = ""  # resolved through the message log
        elif not isinstance(customer_id, str) or not customer_id:
            raise LinkError("token: incomplete")
        elif kind == "unsubscribe" and not (isinstance(address, str) and ":" in address):
            raise LinkError("token: no address to unsubscribe")
        url = claims.get("u")
        if kind == "click":
            url = safe_destination(url)
        return LinkClaims(
            kind=kind,
            message_id=message_id,
            customer_id=customer_id,
            channel=str(claims.get("ch") or "email"),
            url=url,
            address=address if kind == "unsubscribe" else None,
            journey=claims.get("j"),
        )
