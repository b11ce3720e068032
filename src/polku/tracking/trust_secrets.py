"""Adapter: the identity key ring and the server API keys, read from Secrets Manager.

Both are key rings ``{"active": "k1", "k1": "..."}`` (template.yaml generates them:
``IdentitySecret``, ``ServerApiKeySecret``). Cached for a few minutes (polku.secret_cache), so a
rotation reaches warm functions soon; a secret that is not set gives ``None`` (nothing verifies).
"""

from __future__ import annotations


from polku import aws_clients, secret_cache
from polku.tracking.identity_token import IdentityKeys


def _client():
    return aws_clients.client("secretsmanager")


def ring(secret_arn: str) -> IdentityKeys | None:
    if not secret_arn:
        return None
    return secret_cache.load(secret_arn, _client, IdentityKeys.from_secret)


def forget() -> None:
    secret_cache.forget()
    aws_clients.reset("secretsmanager")


def mint_for(site_key: str, customer_id: str, lifetime_seconds: int = 3600, secret_arn: str | None = None) -> str:
    """An identity token, minted as a shop's backend mints it, for Polku's own tools that hold the
    secret (the demo, the session replay, tests). Expiry from the one clock (virtual in simulations)."""
    from polku import clock
    from polku.settings import get_settings
    from polku.tracking import identity_token

    keys = ring(secret_arn if secret_arn is not None else get_settings().identity_secret_arn)
    if keys is None:
        raise RuntimeError("IDENTITY_SECRET_ARN is not set: no identity tokens can be minted")
    expires = int(clock.now().timestamp()) + lifetime_seconds
    return identity_token.mint(keys.site_secret(site_key), site_key, customer_id, expires)


def server_key_for(site_key: str, secret_arn: str | None = None) -> str:
    """A site's server API key (header X-Polku-Server-Key), for the operator who gives it to the
    shop's backend (docs/events.md) and for Polku's own tools and tests."""
    from polku.settings import get_settings
    from polku.tracking import server_auth

    keys = ring(secret_arn if secret_arn is not None else get_settings().server_key_secret_arn)
    if keys is None:
        raise RuntimeError("SERVER_KEY_SECRET_ARN is not set: there are no server keys")
    return server_auth.server_key(keys, site_key)
