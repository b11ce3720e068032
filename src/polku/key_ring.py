"""Key rings kept in Secrets Manager: ``{"active": "k1", "k1": "...", "k2": "..."}`` (pure).

The link-signing secret, the identity secret and the server-API secret all have this shape: several
keys so that one can be rotated in while the old one still verifies, and the one that signs named by
``active``. :func:`parse` reads and checks one; each user wraps the keys in its own type.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
MIN_KEY_CHARS = 16


def parse(secret: str | Mapping[str, Any], what: str, error: type[Exception]) -> tuple[str, dict[str, bytes]]:
    """(active key id, {key id: key bytes}) of ``secret`` (a JSON string or a dict); ``error(what: reason)``
    when it is not a valid ring."""
    try:
        data = json.loads(secret) if isinstance(secret, str) else dict(secret)
    except (TypeError, ValueError):
        raise error(f"{what}: not JSON") from None
    active = data.get("active")
    keys = {k: v.encode("utf-8") for k, v in data.items() if k != "active" and isinstance(v, str)}
    if not isinstance(active, str) or active not in keys:
        raise error(f"{what}: 'active' must name one of its keys")
    for kid, key in keys.items():
        if not KEY_ID.fullmatch(kid):
            raise error(f"{what}: key id {kid!r} is not valid")
        if len(key) < MIN_KEY_CHARS:
            raise error(f"{what}: key {kid!r} is shorter than {MIN_KEY_CHARS} characters")
    return active, keys
