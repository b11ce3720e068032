"""Fixtures of the integration tier (handlers and adapters on the twin)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def api(twin):
    """The twin's HTTP API base URL, with the data layer bound to the twin (settings are read once
    per process: read them again from the twin's environment). A module may define its own ``api``."""
    from polku.data.base import bind_models
    from polku.settings import get_settings

    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    return twin.api_url
