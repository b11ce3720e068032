"""Small helpers of the integration tests: unique ids, and waiting for what the twin does
asynchronously (stream consumers, SNS subscribers)."""

from __future__ import annotations

import time
import uuid


def uid(prefix: str) -> str:
    """An id no other test uses (the twin is shared by the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_for(check, timeout: float = 20.0):
    """``check()``'s first truthy value within ``timeout`` seconds, else its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return check()
