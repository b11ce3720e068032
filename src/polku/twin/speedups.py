"""Speed-ups for the local twin (behaviour unchanged; a journey simulation makes thousands of calls).

* moto's Step Functions interpreter builds a new boto3 client for every Lambda task (tens of
  milliseconds each: endpoint resolution, SSL context). One client per (region, service) is kept
  (moto ignores per-state credentials anyway).
* moto parses the ASL definition with ANTLR for every execution; the parsed program is kept per
  definition text (evaluation state lives in each execution's Environment, not in the program).
* PynamoDB keeps its botocore session per thread; see below.
* moto's DynamoDB sorts every item of a table on each Query (``Table.all_items``), comparing
  DynamoType objects that convert their value on every comparison; the same order is produced
  with each key converted once, and a base-table Query reads only its own partition.
"""

from __future__ import annotations

import sys
import threading

_applied = False
_lock = threading.Lock()
_cache: dict = {}


def clear() -> None:
    """Forget the cached Step Functions task clients (e.g. when the transport changes)."""
    with _lock:
        _cache.clear()


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    import importlib

    from moto.stepfunctions.parser.asl.utils import boto_client as bc

    original = bc.boto_client_for

    def cached_boto_client_for(region, service, state_credentials=None):
        # moto 5.2.5's boto_client_for does not use state_credentials (fixed test keys).
        key = (region, service)
        with _lock:
            client = _cache.get(key)
            if client is None:
                client = _cache[key] = original(region, service, None)
        return client

    bc.boto_client_for = cached_boto_client_for
    importlib.import_module("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils")
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = cached_boto_client_for

    # PynamoDB keeps its botocore session per thread and re-creates its client when it
    # cannot see credentials yet. The twin serves every request on a new thread, so each
    # call paid for a new session and client (service model JSON parsed again). One client
    # per Connection, as in a warm Lambda container.
    from pynamodb.connection.base import Connection

    original_client = Connection.client

    def client(self):
        if self._client is not None:
            return self._client
        with _lock:
            return original_client.fget(self)

    Connection.client = property(client)

    from moto.stepfunctions.parser.backend import execution_worker as ew_mod

    programs: dict[str, object] = {}
    original_entrypoint = ew_mod.ExecutionWorker._get_evaluation_entrypoint

    def entrypoint(self):
        definition = self._evaluation_details.state_machine_details.definition
        with _lock:
            program = programs.get(definition)
        if program is None:
            program = original_entrypoint(self)
            with _lock:
                programs[definition] = program
        return program

    ew_mod.ExecutionWorker._get_evaluation_entrypoint = entrypoint

    from moto.dynamodb.models.table import Table

    only = threading.local()

    def all_items(self):
        items = []
        hash_key = getattr(only, "hash_key", None)
        if hash_key is not None and getattr(only, "table", None) is self:
            hash_set = self.items.get(hash_key)
            sets = [] if hash_set is None else [hash_set]
        else:
            sets = self.items.values()
        for hash_set in sets:
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        if self.range_key_attr:
            return sorted(items, key=lambda x: (x.hash_key.cast_value, x.range_key.cast_value)
                          if x.range_key else (x.hash_key.cast_value,))
        return sorted(items, key=lambda x: x.hash_key.cast_value)

    Table.all_items = all_items

    # A Query on the base table names its hash key: look at that partition only (moto scans
    # and sorts the whole table, which makes a simulation quadratic in its number of customers).
    original_query = Table.query

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        only.table, only.hash_key = self, hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            only.table = only.hash_key = None

    Table.query = query
