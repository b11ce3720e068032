"""One PynamoDB client per Connection: PynamoDB keeps its botocore session per thread and re-creates its client when it cannot see
credentials yet. The twin serves every request on a new thread, so each call paid for a new
session and client (service model JSON parsed again). One client per Connection, as in a warm
Lambda container; the per-thread sessions share one botocore loader per data path.

Target: pynamodb.connection.base.Connection.client (pynamodb, the version pinned in polku.twin.patches.PINNED).
Measured gain: +7 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/contract/test_data_layer.py.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()

# Each of those per-thread sessions also has its own botocore loader, so every new Connection
# (every model after bind_models, e.g. at the start of each simulation) read and parsed the
# DynamoDB service model and the endpoint rules again (~0.2 s each). The sessions share one
# loader per data path, as the clients of one session already do; it only reads files.
_loaders: dict = {}


def _share_loader(session) -> None:
    from botocore.loaders import create_loader

    path = session.get_config_variable("data_path")
    loader = _loaders.get(path)
    if loader is None:
        loader = _loaders[path] = create_loader(path)
    session.register_component("data_loader", loader)


def apply() -> None:
    from pynamodb.connection.base import Connection

    original_client = Connection.client

    def client(self):
        if self._client is not None:
            return self._client
        with _lock:
            if self._client is None:
                _share_loader(self.session)
            return original_client.fget(self)

    Connection.client = property(client)
