"""What the browser tests share: a local web server for a shop's pages, and drive_page.mjs, which
opens a page in Chromium, runs the steps and prints what they returned."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root: Path) -> tuple[str, ThreadingHTTPServer]:
    """Serve the files under ``root`` on a free local port: its origin and the server (to shut down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def drive(url: str, steps: list, timeout: float = 120, **options) -> dict:
    """Run drive_page.mjs on ``url`` with ``steps``: its JSON answer (the script's last line)."""
    plan = json.dumps({"url": url, "steps": steps, **options})
    proc = subprocess.run(["node", str(HERE / "drive_page.mjs"), plan], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wait_for(fn, timeout=30.0):  # returns as soon as fn() holds; the time-out only matters on a loaded machine
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@contextlib.contextmanager
def origins_allowed(extra: str):
    """The tracking API accepts requests from ``extra`` (comma-separated origins) too, until the end."""
    from polku.data.base import bind_models
    from polku.settings import get_settings

    previous = os.environ.get("ALLOWED_ORIGINS")
    os.environ["ALLOWED_ORIGINS"] = f"{previous},{extra}" if previous else extra
    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("ALLOWED_ORIGINS", None)
        else:
            os.environ["ALLOWED_ORIGINS"] = previous
        get_settings.cache_clear()
