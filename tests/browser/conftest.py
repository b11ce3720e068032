"""Every test here drives Debian's Chromium through npm's playwright-core: both must be installed
(`make test` installs them); a missing one fails the test with the command that installs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, scope="session")
def chromium_and_playwright():
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian chromium is missing: run `bash infra/scripts/install-chromium.sh`")
    if not shutil.which("node") or not (REPO / "node_modules" / "playwright-core").is_dir():
        pytest.fail("node and npm playwright-core are needed: run `npm ci`")
