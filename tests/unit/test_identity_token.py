"""Identity tokens (#16 point 1), pure: the documented minting snippets (Python and JavaScript)
make tokens Polku accepts, and every way a token can be wrong is named."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from polku.tracking import identity_token, server_auth
from polku.tracking.identity_token import IdentityKeys, IdentitySecretError
from polku.tracking.validation import Invalid

DOC = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
KEYS = IdentityKeys.from_secret('{"active": "k1", "k1": "0123456789abcdef0123456789abcdef"}')
SITE, CUST = "demo-shop", "c-1001"


def _block(lang: str, after: str) -> str:
    start = DOC.index(after)
    return re.search(rf"```{lang}\n(.*?)```", DOC[start:], re.S).group(1)


def test_the_python_snippet_in_the_docs_mints_accepted_tokens():
    scope: dict = {}
    exec(_block("python", "secret**. Python:"), scope)  # noqa: S102 - our own documentation
    token = scope["polku_identity_token"](KEYS.site_secret(SITE), SITE, CUST)
    identity_token.verify(token, KEYS, SITE, CUST, time.time())


def test_the_javascript_snippet_in_the_docs_mints_accepted_tokens():
    if not shutil.which("node"):
        pytest.fail("node is required (npm ci)")
    code = _block("js", "JavaScript (Node.js):") + (
        f"\nprocess.stdout.write(polkuIdentityToken({KEYS.site_secret(SITE)!r}, {SITE!r}, {CUST!r}));")
    token = subprocess.run(["node", "-e", code], capture_output=True, text=True, check=True, timeout=30).stdout
    identity_token.verify(token, KEYS, SITE, CUST, time.time())


def _token(**kw):
    # Minted when the tests are collected, checked when they run (after the rest of a long suite):
    # valid for 20 hours, inside the 24-hour limit.
    args = {"secret": KEYS.site_secret(SITE), "site_key": SITE, "customer_id": CUST, "expires": int(time.time()) + 20 * 3600}
    args.update(kw)
    return identity_token.mint(**args)


@pytest.mark.parametrize("token, reason", [
    (None, "is missing"), ("", "is missing"), (123, "must be a string"), ("x" * 200, "must be a string"),
    ("abc", "64 hex digits"), ("123." + "G" * 64, "64 hex digits"), ("123." + "a" * 63, "64 hex digits"),
    (_token(expires=int(time.time()) - 1), "has expired"),
    (_token(expires=int(time.time()) + 2 * 86400), "24 hours"),
    (_token(customer_id="c-1002"), "does not match"),
    (_token(site_key="other"), "does not match"),
    (_token(secret=KEYS.site_secret("other")), "does not match"),
    (_token(secret="k" * 40), "does not match"),
    (_token().upper(), "64 hex digits"),
])
def test_every_wrong_token_is_named(token, reason):
    with pytest.raises(Invalid) as err:
        identity_token.verify(token, KEYS, SITE, CUST, time.time())
    assert err.value.field == "identity_token" and reason in err.value.reason


def test_no_key_ring_verifies_nothing():
    with pytest.raises(Invalid, match="cannot be verified"):
        identity_token.verify(_token(), None, SITE, CUST, time.time())


def test_rotation_keeps_old_tokens_valid_until_they_expire():
    old = _token()
    rotated = IdentityKeys.from_secret({"active": "k2", "k1": KEYS.keys["k1"].decode(), "k2": "z" * 32})
    identity_token.verify(old, rotated, SITE, CUST, time.time())
    identity_token.verify(_token(secret=rotated.site_secret(SITE)), rotated, SITE, CUST, time.time())
    with pytest.raises(Invalid):  # a ring without k1 no longer accepts k1's tokens
        identity_token.verify(old, IdentityKeys.from_secret({"active": "k2", "k2": "z" * 32}), SITE, CUST, time.time())


@pytest.mark.parametrize("secret, reason", [
    ("not json", "not JSON"), ('{"k1": "0123456789abcdef"}', "'active'"), ('{"active": "k1", "k1": "short"}', "shorter"),
    ('{"active": "k 1", "k 1": "0123456789abcdef"}', "not valid"),
])
def test_a_bad_secret_is_named(secret, reason):
    with pytest.raises(IdentitySecretError, match=reason):
        IdentityKeys.from_secret(secret)


def test_server_keys_are_per_site_and_not_identity_secrets():
    key = server_auth.server_key(KEYS, SITE)
    server_auth.check(key, KEYS, SITE)
    for wrong in (server_auth.server_key(KEYS, "other"), KEYS.site_secret(SITE), SITE, key[:-1], key + "0", "ä" * 64):
        with pytest.raises(Invalid) as err:
            server_auth.check(wrong, KEYS, SITE)
        assert err.value.field == "X-Polku-Server-Key"
    with pytest.raises(server_auth.Unauthenticated):
        server_auth.check(None, KEYS, SITE)
