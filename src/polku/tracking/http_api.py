"""The tracking API's HTTP edge: request bytes in, (status, body, headers) out.

The Chalice app (functions/track/app.py) calls these and only wraps the result
in a ``Response``; domain errors (:class:`Invalid`, :class:`LinkConflict`,
:class:`StorageUnavailable`) are mapped to HTTP here, in one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from polku import clock
from polku.settings import get_settings
from polku.tracking import event_schema as schema
from polku.tracking import identify as identify_use_case
from polku.tracking import consent_delivery, identity_token, server_auth, trust_secrets
from polku.tracking.event_store import StorageUnavailable
from polku.tracking.identify import EventIdConflict
from polku.tracking.identity import LinkConflict
from polku.tracking.ingest import ingest
from polku.tracking.origin_policy import SITE_KEY_HEADER, OriginPolicy
from polku.tracking.validation import Invalid

JSON = {"Content-Type": "application/json"}


@dataclass
class HttpAnswer:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | None, max_bytes: int):
    if not raw:
        raise Invalid("body", "is empty; send a JSON object")
    if len(raw) > max_bytes:
        raise Invalid("body", f"is larger than {max_bytes // 1024} kB")
    try:
        # Strict UTF-8 (RFC 8259): json.loads(bytes) would also take UTF-16/32 and encoded
        # surrogates ("surrogatepass"); invalid bytes are refused, never replaced.
        text = raw.decode("utf-8-sig") if isinstance(raw, (bytes, bytearray)) else raw
    except UnicodeDecodeError as exc:
        raise Invalid("body", f"is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise Invalid("body", "is not valid JSON") from None


def _error(status: int, err: Invalid, headers: dict) -> HttpAnswer:
    return HttpAnswer(status, {"error": {"field": err.field, "reason": err.reason}}, {**JSON, **headers})


def _lower(headers) -> dict:
    return {str(k).lower(): v for k, v in dict(headers or {}).items()}


def policy() -> OriginPolicy:
    return OriginPolicy.from_settings(get_settings())


def _accept_request(raw: bytes | None, headers, max_bytes: int, not_object: str, query: dict | None = None):
    """The checks both POST routes make, in order: origin, body size and JSON, object, site key.

    Returns (site_key, body, cors headers), or the error answer to send.
    """
    headers = _lower(headers)
    pol = policy()
    origin = headers.get("origin")
    cors = pol.cors_headers(origin)
    try:
        pol.check_origin(origin)
    except Invalid as err:
        return _error(403, err, cors)
    try:
        body = parse_json(raw, max_bytes)
    except Invalid as err:
        return _error(413 if "larger" in err.reason else 400, err, cors)
    if not isinstance(body, dict):
        return _error(400, Invalid("body", not_object), cors)
    given = headers.get(SITE_KEY_HEADER) or body.get("site_key")
    in_query = (query or {}).get("site_key")  # polku.js also sends it in the URL: the per-site rate limit counts it
    if in_query is not None and given is not None and in_query != given:
        return _error(403, Invalid("site_key", "the site_key query parameter differs from the request's site key"), cors)
    try:
        site_key = pol.check_site_key(given if given is not None else in_query)
    except Invalid as err:
        return _error(403, err, cors)
    return site_key, body, cors


def post_events(raw: bytes | None, headers, query: dict | None = None) -> HttpAnswer:
    accepted = _accept_request(raw, headers, schema.MAX_BATCH_BYTES, "must be a JSON object with an events list", query)
    if isinstance(accepted, HttpAnswer):
        return accepted
    site_key, body, cors = accepted
    return _ingest_answer(body.get("events"), site_key, cors, browser=True)


def _ingest_answer(events, site_key, cors, *, browser: bool) -> HttpAnswer:
    if not isinstance(events, list):
        return _error(400, Invalid("events", "must be a list of events"), cors)
    if not events:
        return _error(400, Invalid("events", "must contain at least one event"), cors)
    if len(events) > schema.MAX_BATCH_EVENTS:
        return _error(413, Invalid("events", f"must contain at most {schema.MAX_BATCH_EVENTS} events"), cors)
    result = ingest(events, site_key=site_key, browser=browser)
    if result.accepted:
        status = 200
    elif result.retry:
        status = 503
    elif result.conflicts:
        status = 409  # an event_id already taken by a different event (rejected[].field == "event_id")
    else:
        status = 400
    return HttpAnswer(status, result.as_response(), {**JSON, **cors})


def web_evidence(headers, source_ip: str | None) -> dict:
    """Where a browser's request came from (kept with consents given through it)."""
    headers = _lower(headers)
    out = {"source": "web"}
    for name, value in (("origin", headers.get("origin")), ("ip", source_ip),
                        ("user_agent", headers.get("user-agent"))):
        if isinstance(value, str) and value:
            out[name] = value[:256]
    return out


def _browser_trust(body: dict, site_key: str | None) -> tuple[str, object]:
    """(trust, verify): a token is always checked when given; without one, only a site that opted
    in (UNVERIFIED_IDENTIFY_SITES) may identify, and then only a new customer."""
    settings = get_settings()
    token = body.get("identity_token")
    if token is None and site_key and site_key in settings.unverified_identify_site_list:
        return identify_use_case.UNVERIFIED, None

    def verify(customer_id: str) -> None:
        keys = trust_secrets.ring(settings.identity_secret_arn) if token else None
        identity_token.verify(token, keys, site_key, customer_id, clock.now().timestamp())

    return identify_use_case.VERIFIED, verify


def post_identify(raw: bytes | None, headers, source_ip: str | None = None, base_url: str = "",
                  query: dict | None = None) -> HttpAnswer:
    """The browser's identify: proof of identity (an identity token) or a site's opt-in to
    unverified identify of new customers; refusals of proof are 403 naming ``identity_token``."""
    accepted = _accept_request(raw, headers, 32 * 1024, "must be a JSON object", query)
    if isinstance(accepted, HttpAnswer):
        return accepted
    site_key, body, cors = accepted
    trust, verify = _browser_trust(body, site_key)
    return _identify_answer(body, site_key, cors, base_url, trust=trust, verify=verify,
                            evidence=web_evidence(headers, source_ip))


def _identify_answer(body, site_key, cors, base_url: str = "", **how) -> HttpAnswer:
    settings = get_settings()
    try:
        result = identify_use_case.identify(body, site_key, confirm_sites=settings.consent_confirmation_site_list,
                                            sms_codes=settings.sms_calling_code_list, **how)
    except Invalid as err:
        return _error(403 if err.field == identity_token.FIELD else 400, err, cors)
    except LinkConflict as err:
        return _error(409, Invalid("anonymous_id", str(err)), cors)
    except EventIdConflict as err:
        return _error(409, Invalid("event_id", str(err)), cors)
    except StorageUnavailable:
        return _error(503, Invalid("body", "storage is unavailable; retry later"), cors)
    answer = {"event_id": result.event_id, "customer_id": result.customer_id, "linked": result.linked,
              "duplicate": not result.stored}
    if result.pending:  # double opt-in: the links go out once, with the identify that gave the consents
        answer["confirmation"] = consent_delivery.send(result.pending, settings.public_base_url or base_url) \
            if result.stored else {c.channel: "sent before" for c in result.pending}
    return HttpAnswer(200, answer, {**JSON, **cors})


def _accept_server(raw: bytes | None, headers, max_bytes: int, not_object: str):
    """The server API's checks: a server key at all (401), the body, the site key, then that the
    key is this site's (403). Returns (site_key, body) or the error answer."""
    headers = _lower(headers)
    given = headers.get(server_auth.HEADER.lower())
    try:
        if not given:
            server_auth.check(given, None, None)
        body = parse_json(raw, max_bytes)
    except server_auth.Unauthenticated as err:
        return _error(401, err, {"WWW-Authenticate": 'X-Polku-Server-Key realm="polku"'})
    except Invalid as err:
        return _error(413 if "larger" in err.reason else 400, err, {})
    if not isinstance(body, dict):
        return _error(400, Invalid("body", not_object), {})
    try:
        site_key = policy().check_site_key(headers.get(SITE_KEY_HEADER) or body.get("site_key"))
        server_auth.check(given, trust_secrets.ring(get_settings().server_key_secret_arn), site_key)
    except Invalid as err:
        return _error(403, err, {})
    return site_key, body


def post_server_events(raw: bytes | None, headers) -> HttpAnswer:
    """The shop's backend: events of any type (purchases, unsubscribes), its server key in the header."""
    accepted = _accept_server(raw, headers, schema.MAX_BATCH_BYTES, "must be a JSON object with an events list")
    if isinstance(accepted, HttpAnswer):
        return accepted
    site_key, body = accepted
    return _ingest_answer(body.get("events"), site_key, {}, browser=False)


def post_server_identify(raw: bytes | None, headers, source_ip: str | None = None) -> HttpAnswer:
    """The shop's backend: a customer's traits and consents (source ``server``), and optionally the
    link of a browser (``anonymous_id``) it has signed in itself; no identity token needed."""
    accepted = _accept_server(raw, headers, 32 * 1024, "must be a JSON object")
    if isinstance(accepted, HttpAnswer):
        return accepted
    site_key, body = accepted
    evidence = {"source": "server", **({"ip": source_ip[:64]} if source_ip else {})}
    return _identify_answer(body, site_key, {}, trust=identify_use_case.SERVER, evidence=evidence)


MAX_CONTENT_BYTES = 16 * 1024


def post_content(raw: bytes | None, headers, query: dict | None = None, deps=None) -> HttpAnswer:
    """On-site content for the slots of a page (polku.tracking.content, docs/onsite.md): origin and
    site key as for events; a customer's content only with the identity token /v1/identify checks."""
    from polku.tracking import content

    accepted = _accept_request(raw, headers, MAX_CONTENT_BYTES, "must be a JSON object with a slots list", query)
    if isinstance(accepted, HttpAnswer):
        return accepted
    site_key, body, cors = accepted
    try:
        req = content.parse(body)
        if req.customer_id is not None:
            keys = trust_secrets.ring(get_settings().identity_secret_arn)
            identity_token.verify(req.identity_token, keys, site_key, req.customer_id, clock.now().timestamp())
    except Invalid as err:
        return _error(403 if err.field == identity_token.FIELD else 400, err, cors)
    result = content.answer(req, deps or _content_deps())
    return HttpAnswer(200, result, {**JSON, **cors, "Cache-Control": "private, no-store"})


@lru_cache(maxsize=1)
def _content_deps():
    from polku.tracking import content

    return content.real_deps()


def preflight(headers) -> HttpAnswer:
    headers = _lower(headers)
    pol = policy()
    origin = headers.get("origin")
    if not pol.origin_allowed(origin) or origin is None:
        return HttpAnswer(403, {"error": {"field": "Origin", "reason": "this web origin is not in the allow-list"}}, JSON)
    return HttpAnswer(204, "", pol.cors_headers(origin, preflight=True))


TRACKER_SCRIPT = "polku.js"
CONTENT_SCRIPT = "polku-content.js"  # the slots' part of the tracker, loaded on demand


@lru_cache(maxsize=2)
def tracker_script(name: str = TRACKER_SCRIPT) -> tuple[bytes, str]:
    data = resources.files("polku.tracking").joinpath(f"static/{name}").read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def get_tracker(headers, name: str = TRACKER_SCRIPT) -> HttpAnswer:
    headers = _lower(headers)
    data, etag = tracker_script(name)
    cache = {
        "Cache-Control": "public, max-age=3600, stale-while-revalidate=86400",
        "ETag": etag,
    }
    if headers.get("if-none-match") == etag:
        return HttpAnswer(304, "", cache)
    return HttpAnswer(200, data.decode("utf-8"), {"Content-Type": "application/javascript; charset=utf-8", **cache})
