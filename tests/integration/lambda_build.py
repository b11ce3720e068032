"""Shared by the layer build tests: the environment that puts Lambda's python (3.13) on PATH."""

from __future__ import annotations

import os
import shutil

import pytest


def python313_env() -> dict:
    """os.environ with python3.13 on PATH (pyenv: 3.13.0 added to PYENV_VERSION); fails the test without it."""
    env = dict(os.environ)
    versions = env.get("PYENV_VERSION", "3.11.7")
    if "3.13" not in versions:
        env["PYENV_VERSION"] = versions + ":3.13.0"
    if not shutil.which("python3.13", path=env.get("PATH")):
        pytest.fail("python3.13 (the Lambda runtime) is not on PATH; the layer is built with it")
    return env
