"""Fuzz /v1/identify with the event rules (issue #20 point 5), as tests/contract/test_events_fuzz.py
fuzzes /v1/events.

The Chalice app runs in-process (chalice.test.Client) over the real DynamoDB Local. Each
request starts from a valid identify and gets mutations aimed at the rules identify shares
with events: the time window of ``ts``, ``locale`` as a BCP 47 tag, ``time_zone`` from the
IANA database, the context fields, id rules (full match, reserved ``anon:``), invalid UTF-8
bytes in the body, and an ``event_id`` already taken by another event. For every request:
never a 5xx; a refusal names a field and stores nothing (no event, no link); an acceptance
stored exactly what the rules allow.

Identity proof (#16 point 1): each request carries an identity token minted for its customer
with the site's secret (Secrets Manager: moto's server with the template's generated secret),
mutated too: missing, expired, too long-lived, another customer's or site's, a flipped digit,
not a string. A second site key opts in to unverified identify. An acceptance had a valid token
for that customer, or came from the opted-in site for a customer nobody knew before; a refusal
of proof is 403 naming ``identity_token`` and writes nothing.

The server API (#16 point 2) is fuzzed the same way: events of every type and identifies with
contact traits and consents, under the site's server key or a mutated one (missing, empty, the
public site key, another site's key, the identity secret, a flipped digit, garbage). Without the
right key: 401/403 naming ``X-Polku-Server-Key`` and nothing written; with it, the event rules.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
import json
import os
import uuid
import zoneinfo
from pathlib import Path

import boto3
import pytest
from chalice.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from polku.data.base import bind_models
from polku.settings import Settings, get_settings
from polku.testing.dynamodb_local import create_tables_from_template
from polku.testing.secrets_manager import SecretsManagerServer
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import identity_token, privacy, trust_secrets  # noqa: F401 - models first
from polku.tracking.validation import check_locale, Invalid

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SITE_KEY = "demo-shop"
OPEN_SITE = "open-shop"  # opts in to unverified identify (UNVERIFIED_IDENTIFY_SITES)
RING: dict = {}  # the identity key ring, once the fixture made the secret
TRUST_ENV = ("IDENTITY_SECRET_ARN", "SERVER_KEY_SECRET_ARN", "UNVERIFIED_IDENTIFY_SITES", "SITE_KEYS")
TAKEN = "fz-taken-" + uuid.uuid4().hex  # an event id stored by someone else before the run
ZONES = sorted(zoneinfo.available_timezones())


@pytest.fixture(scope="module")
def client(dynamodb_local, template):
    for k, v in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        os.environ.setdefault(k, v)
    ddb = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="eu-west-1")
    names = create_tables_from_template(ddb, template, stage="fi" + uuid.uuid4().hex[:8])
    bind_models(Settings(events_table=names["EventsTable"], identities_table=names["IdentitiesTable"],
                         profiles_table=names["ProfilesTable"]), host=dynamodb_local.endpoint_url)
    spec = importlib.util.spec_from_file_location("polku_track_app_identify_fuzz", REPO / "functions/track/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved = {k: os.environ.get(k) for k in TRUST_ENV}
    with SecretsManagerServer(["IdentitySecret", "ServerApiKeySecret"]) as sm, Client(module.app) as c:
        os.environ.update({"IDENTITY_SECRET_ARN": sm.arns["IdentitySecret"], "UNVERIFIED_IDENTIFY_SITES": OPEN_SITE,
                           "SERVER_KEY_SECRET_ARN": sm.arns["ServerApiKeySecret"],
                           "SITE_KEYS": f"{SITE_KEY},{OPEN_SITE}"})  # a twin earlier in the session may have set it
        get_settings.cache_clear()
        trust_secrets.forget()
        RING["keys"] = trust_secrets.ring(sm.arns["IdentitySecret"])
        RING["server"] = trust_secrets.ring(sm.arns["ServerApiKeySecret"])
        # a purchase the shop's backend reported takes the event id TAKEN
        server_key = trust_secrets.server_key_for(SITE_KEY, secret_arn=sm.arns["ServerApiKeySecret"])
        r = c.http.post("/v1/server/events", headers={"Content-Type": "application/json",
                                                      "X-Polku-Server-Key": server_key}, body=json.dumps(
            {"site_key": SITE_KEY, "events": [{"event_id": TAKEN, "type": "purchase", "customer_id": "fz-owner",
                                               "ts": "2026-01-05T07:00:00Z",
                                               "properties": {"order_id": "o1", "revenue": 5,
                                                              "items": [{"product_id": "p", "quantity": 1, "price": 5}]}}]}))
        assert r.status_code == 200, r.body
        yield c
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    get_settings.cache_clear()
    trust_secrets.forget()
    bind_models(get_settings(), host=None)


NOW = dt.datetime.now(dt.timezone.utc)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12))
timestamps = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                     "2026-01-05T07:59:00", "2026-02-30T00:00:00Z", "", "yesterday",
                     (NOW + dt.timedelta(hours=23)).isoformat(), (NOW + dt.timedelta(hours=25)).isoformat()]),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat()),
    json_leaf,
)
locales = st.one_of(
    st.sampled_from(["fi-FI", "en", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "x-private", "es-419", "fi_FI",
                     "<script>", "en-", "toolonglanguage", "", "en-US-u-ca-gregory", "i-klingon"]),
    st.text(max_size=12), json_leaf,
)
zones = st.one_of(st.sampled_from(ZONES), st.sampled_from(["Not/AZone", "../../etc/passwd", "europe/helsinki", "",
                                                           "UTC", "Etc/GMT+5", "Europe/Helsinki\n"]),
                  st.text(max_size=16), json_leaf)
customer_ids = st.one_of(st.sampled_from(["anon:x", "anon:", "c1\n", "c 1", "", "c" * 129, "ANON:x"]),
                         st.text(max_size=10), json_leaf)


def token(customer_id, site_key=SITE_KEY, lifetime=600):
    secret = RING["keys"].site_secret(site_key)
    return identity_token.mint(secret, site_key, customer_id, int(time.time()) + lifetime)


def valid_token(body) -> bool:
    """The test's own check: a token minted for this site and customer, not expired, at most 24 h ahead."""
    tok, cust, site = body.get("identity_token"), body.get("customer_id"), body.get("site_key")
    if not (isinstance(tok, str) and isinstance(cust, str) and isinstance(site, str) and "." in tok):
        return False
    expires = tok.split(".", 1)[0]
    if not expires.isdigit() or not time.time() < int(expires) <= time.time() + 86400 + 300:
        return False
    return tok == identity_token.mint(RING["keys"].site_secret(site), site, cust, int(expires))


tokens = st.sampled_from(["missing", "expired", "far", "other-customer", "other-site", "flipped", "garbage", "leaf",
                          "open-site", "open-site-no-token", "known-customer"])


@st.composite
def identify_request(draw):
    """(raw body bytes, body dict or None, what was mutated)."""
    customer = "fz-c-" + uuid.uuid4().hex
    body = {"site_key": SITE_KEY, "anonymous_id": "fz-a-" + uuid.uuid4().hex, "customer_id": customer,
            "identity_token": token(customer),
            "event_id": "fz-" + uuid.uuid4().hex, "ts": "2026-01-05T07:59:00Z",
            "traits": {"email": "a@example.com", "locale": "fi-FI", "time_zone": "Europe/Helsinki"},
            "context": {"locale": "fi-FI", "time_zone": "Europe/Helsinki", "url": "https://shop.example/"}}
    mutated = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 9))
        kind = 8 if kind == 9 else kind  # the token mutations twice as often
        mutated.append(kind)
        if kind == 0:
            body["ts"] = draw(timestamps)
        elif kind == 1:
            body.setdefault("traits", {})["locale"] = draw(locales)
        elif kind == 2:
            body.setdefault("traits", {})["time_zone"] = draw(zones)
        elif kind == 3:
            body.setdefault("context", {})[draw(st.sampled_from(["locale", "time_zone", "page", "url"]))] = draw(
                st.one_of(locales, zones))
        elif kind == 4:
            body["customer_id"] = draw(customer_ids)
        elif kind == 5:
            body["event_id"] = draw(st.one_of(st.just(TAKEN), st.just("fz-x\n"), json_leaf))
        elif kind == 6:
            body.pop(draw(st.sampled_from(["ts", "event_id", "context", "traits", "anonymous_id"])), None)
        elif kind == 7:
            body.setdefault("traits", {})[draw(st.sampled_from(["first_name", "city", "locale"]))] = draw(json_leaf)
        elif kind == 8:
            how = draw(tokens)
            mutated.append(how)
            if how == "missing":
                body.pop("identity_token", None)
            elif how == "expired":
                body["identity_token"] = token(customer, lifetime=-draw(st.integers(1, 10**6)))
            elif how == "far":
                body["identity_token"] = token(customer, lifetime=draw(st.integers(86400 + 400, 10**8)))
            elif how == "other-customer":
                body["identity_token"] = token("fz-c-" + uuid.uuid4().hex)
            elif how == "other-site":
                body["identity_token"] = token(customer, site_key=draw(st.sampled_from([OPEN_SITE, "x", ""])))
            elif how == "flipped":
                t = body.get("identity_token") or token(customer)
                i = draw(st.integers(0, len(t) - 1))
                body["identity_token"] = t[:i] + ("1" if t[i] != "1" else "2") + t[i + 1:]
            elif how == "garbage":
                body["identity_token"] = draw(st.text(max_size=120))
            elif how == "leaf":
                body["identity_token"] = draw(json_leaf)
            elif how == "open-site":
                body["site_key"] = OPEN_SITE
            elif how == "open-site-no-token":
                body["site_key"] = OPEN_SITE
                body.pop("identity_token", None)
            elif how == "known-customer":  # someone Polku knows (the owner of TAKEN), with or without their token
                body["customer_id"] = "fz-owner"
                if draw(st.booleans()):
                    body["identity_token"] = token("fz-owner")
                if draw(st.booleans()):
                    body["site_key"] = OPEN_SITE
                    body.pop("identity_token", None)
    raw = json.dumps(body).encode()
    if draw(st.integers(0, 6)) == 0:  # invalid UTF-8 inside a string value
        at = draw(st.sampled_from([b'"a@example.com"', b'"fi-FI"', b'"demo-shop"']))
        if at not in raw:
            at = b'"demo-shop"' if b'"demo-shop"' in raw else b'"open-shop"'
        raw = raw.replace(at, at[:-1] + draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xfe"])) + b'"', 1)
        return raw, None
    return raw, body


def _ours(value, prefix):
    return isinstance(value, str) and value.startswith(prefix) and "\n" not in value


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(identify_request())
def test_fuzzed_identify_follows_the_event_rules(client, case):
    raw, body = case
    resp = client.http.post("/v1/identify", headers={"Content-Type": "application/json"}, body=raw)
    assert resp.status_code < 500, resp.body
    out = json.loads(resp.body)
    event(f"{resp.status_code} {(out.get('error') or {}).get('field', 'accepted')}")  # --hypothesis-show-statistics
    if body is None:  # invalid UTF-8: refused as a body, nothing replaced by U+FFFD
        assert resp.status_code == 400 and out["error"]["field"] == "body"
        return
    anon = body.get("anonymous_id")
    if resp.status_code != 200:
        assert resp.status_code in (400, 403, 409), resp.body
        assert out["error"]["field"] and out["error"]["reason"]
        assert (resp.status_code == 403) == (out["error"]["field"] == "identity_token"), resp.body
        if body.get("event_id") == TAKEN:
            assert event_table.get(TAKEN)["type"] == "purchase"  # the other sender's event untouched
        elif _ours(body.get("event_id"), "fz-"):
            assert event_table.get(body["event_id"]) is None
        if _ours(anon, "fz-a-"):
            assert identities.customer_of(anon) is None, "a refused identify linked the browser"
        return
    stored = event_table.get(out["event_id"])
    unverified = body.get("site_key") == OPEN_SITE and body.get("identity_token") is None
    assert valid_token(body) or unverified, f"accepted without proof: {body}"
    if unverified:  # only a customer nobody knew: never the owner of an earlier event
        assert body["customer_id"] != "fz-owner" and stored["properties"]["evidence"]["trust"] == "unverified"
    assert "identity_token" not in json.dumps(stored, default=str)
    assert stored["type"] == "identify" and out["event_id"] != TAKEN
    ts = dt.datetime.fromisoformat(stored["client_ts"].replace("Z", "+00:00"))
    assert dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) <= ts <= NOW + dt.timedelta(days=1, minutes=5)
    assert not str(stored["customer_id"]).startswith("anon:") and "\n" not in stored["customer_id"]
    traits = stored["properties"]["traits"]
    for where in (traits, stored.get("context") or {}):
        if where.get("locale") is not None:
            check_locale(where["locale"], "locale")  # raises Invalid if a bad tag got through
        if where.get("time_zone") is not None:
            assert where["time_zone"] in ZONES
    assert set(stored.get("context") or {}) <= {"locale", "time_zone", "url", "referrer", "user_agent", "library"}
    if isinstance(anon, str):
        assert identities.customer_of(anon) == body["customer_id"]


def test_invalid_utf8_is_refused_not_replaced(client):
    raw = b'{"site_key": "demo-shop", "customer_id": "fz-c-1", "traits": {"first_name": "Ann\xff"}}'
    for ct in ("application/json", "text/plain"):
        resp = client.http.post("/v1/identify", headers={"Content-Type": ct}, body=raw)
        assert resp.status_code == 400 and json.loads(resp.body)["error"]["field"] == "body"
    with pytest.raises(Invalid):
        check_locale("fi_FI", "locale")


# ---------------------------------------------------------------- the server API (#16 point 2)
EXAMPLES = json.loads((REPO / "tests/fixtures/api_event_examples.json").read_text())
server_keys = st.sampled_from(["site", "site", "site", "missing", "empty", "public-site-key", "other-site",
                               "identity-secret", "flipped", "garbage"])


def _server_key(how, draw):
    from polku.tracking import server_auth

    right = server_auth.server_key(RING["server"], SITE_KEY)
    return {"site": right, "missing": None, "empty": "", "public-site-key": SITE_KEY,
            "other-site": server_auth.server_key(RING["server"], OPEN_SITE),
            "identity-secret": RING["keys"].site_secret(SITE_KEY),  # the identity secret is not a server key
            "flipped": right[:-1] + ("0" if right[-1] != "0" else "1"),
            "garbage": draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))}[how]


@st.composite
def server_request(draw):
    """(path, headers, body, key is right): events of any type, or an identify, under a mutated key."""
    how = draw(server_keys)
    headers = {"Content-Type": "application/json"}
    key = _server_key(how, draw)
    if key is not None:
        headers["X-Polku-Server-Key"] = key
    customer = "fz-s-" + uuid.uuid4().hex
    if draw(st.booleans()):
        events = []
        for _ in range(draw(st.integers(1, 3))):
            ev = json.loads(json.dumps(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))]))
            ev.update(event_id="fz-" + uuid.uuid4().hex, customer_id=customer, ts="2026-01-05T07:59:00Z")
            if draw(st.integers(0, 3)) == 0:
                ev[draw(st.sampled_from(["ts", "type", "properties", "customer_id", "x"]))] = draw(json_leaf)
            events.append(ev)
        return "/v1/server/events", headers, {"site_key": SITE_KEY, "events": events}, how == "site"
    body = {"site_key": SITE_KEY, "customer_id": customer, "anonymous_id": "fz-a-" + uuid.uuid4().hex,
            "event_id": "fz-" + uuid.uuid4().hex,
            "traits": {"email": "s@example.com", "phone": "+358401234567", "consents": {"email": True, "sms": True}}}
    if draw(st.integers(0, 2)) == 0:
        body[draw(st.sampled_from(["customer_id", "traits", "ts", "x", "site_key"]))] = draw(json_leaf)
    return "/v1/server/identify", headers, body, how == "site"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(server_request())
def test_fuzzed_server_api_needs_the_sites_server_key(client, case):
    path, headers, body, right_key = case
    resp = client.http.post(path, headers=headers, body=json.dumps(body).encode())
    assert resp.status_code < 500, resp.body
    out = json.loads(resp.body)
    event(f"{path} {resp.status_code} {(out.get('error') or {}).get('field', 'answered')}")
    if not right_key or body.get("site_key") != SITE_KEY:
        assert resp.status_code in (401, 403, 400), resp.body
        assert out["error"]["field"] in ("X-Polku-Server-Key", "site_key")
        assert (resp.status_code == 401) == (headers.get("X-Polku-Server-Key") in (None, "")), resp.body
    ids = [e.get("event_id") for e in body.get("events", [])] if path.endswith("events") else [body.get("event_id")]
    if resp.status_code >= 400 and "error" in out:  # refused as a whole: nothing written
        assert all(event_table.get(i) is None for i in ids if _ours(i, "fz-"))
        if path.endswith("identify") and _ours(body.get("anonymous_id"), "fz-a-"):
            assert identities.customer_of(body["anonymous_id"]) is None
        return
    assert right_key
    if path.endswith("events"):  # every accepted event stored, every rejected one not
        for i in out["accepted"]:
            assert event_table.get(i) is not None
        for r in out["rejected"]:
            if _ours(r.get("event_id"), "fz-"):
                assert event_table.get(r["event_id"]) is None
        return
    stored = event_table.get(out["event_id"])
    evidence = stored["properties"]["evidence"]
    assert evidence["source"] == "server" and evidence["trust"] == "server"
    assert identities.customer_of(body["anonymous_id"]) == body["customer_id"]
