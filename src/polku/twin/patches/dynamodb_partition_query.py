"""DynamoDB queries read one partition or one index bucket: moto's DynamoDB sorts every item of a table on each Query (Table.all_items), which makes a
simulation quadratic in its number of customers. A base-table Query reads only its partition;
an index Query reads the items a map from the index's hash-key values holds.

Target: moto.dynamodb.models.table.Table.all_items/query/put_item, StreamShard.add, DynamoDBBackend.update_item (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +27 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/unit/test_twin_speedups.py (stream consumer sees the new item), tests/contract.
"""

from __future__ import annotations

import threading

# ---------------------------------------------------------------- GSI index
# moto answers a Query on a global secondary index by sorting and scanning every item of the
# table. The twin keeps, per table, a map from each GSI hash-key attribute's value to the items
# holding it, and hands moto's own Query only those items: its checks, sort order, key
# conditions, filters, projection, limits and pagination all run as before, on fewer items.
#
# The map may hold stale entries (an item deleted, replaced or whose key changed); each is
# checked against the table when read and dropped if it no longer matches, so the map only has
# to be a superset. Items reach a table through Table.put_item and change in place only in
# DynamoDBBackend.update_item (also used by transactions and PartiQL); both re-index the item, and
# so does the stream hook, before a synchronous stream consumer can query the index.
# Whatever replaces a table's items wholesale (a failed transaction's rollback, a restore) makes
# a new Table object or is followed by dropping the map, which is then rebuilt by one scan.
_gsi_lock = threading.RLock()


def _gsi_attrs(table) -> tuple:
    attrs = []
    for index in table.global_indexes or []:
        hashes = _hash_attrs(index)
        if len(hashes) == 1 and hashes[0] not in attrs:
            attrs.append(hashes[0])
    return tuple(attrs)


def _hash_attrs(index) -> list[str]:
    return [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]


def _table_items(table):
    for hash_set in list(table.items.values()):
        if table.range_key_attr:
            yield from list(hash_set.values())
        else:
            yield hash_set


def _gsi_map(table):
    """The table's map {attribute: {value: {primary key: item}}}, built by one scan if needed."""
    state = table.__dict__.get("_polku_gsi")
    if state is None or state[0] is not table.items:
        buckets = {attr: {} for attr in _gsi_attrs(table)}
        state = (table.items, buckets)
        for item in _table_items(table):
            _index_into(buckets, item)
        table.__dict__["_polku_gsi"] = state
    return state[1]


def _index_into(buckets: dict, item) -> None:
    pk = (item.hash_key, item.range_key)
    for attr, bucket in buckets.items():
        value = item.attrs.get(attr)
        if value is not None:
            try:
                bucket.setdefault(value, {})[pk] = item
            except TypeError:  # an unhashable value (a list or map): it cannot be a key anyway
                pass


def gsi_index_item(table, item) -> None:
    if item is None:
        return
    with _gsi_lock:
        state = table.__dict__.get("_polku_gsi")
        if state is not None and state[0] is table.items:
            _index_into(state[1], item)


def gsi_forget(table) -> None:
    with _gsi_lock:
        table.__dict__.pop("_polku_gsi", None)


def _stored(table, pk):
    hash_set = table.items.get(pk[0])
    if hash_set is None:
        return None
    if table.range_key_attr:
        return hash_set.get(pk[1])
    return hash_set


def gsi_candidates(table, index_name: str, hash_key_conditions):
    """The items a Query on ``index_name`` can return, or None to let moto scan the table."""
    index = next((i for i in (table.global_indexes or []) if i.name == index_name), None)
    if index is None or not hash_key_conditions or len(hash_key_conditions) != 1:
        return None
    hashes = _hash_attrs(index)
    attr, value = hash_key_conditions[0]
    if hashes != [attr]:
        return None
    with _gsi_lock:
        buckets = _gsi_map(table)
        if attr not in buckets:
            return None
        try:
            bucket = buckets[attr].get(value)
        except TypeError:
            return None
        if not bucket:
            return []
        found = []
        for pk, item in list(bucket.items()):
            current = item.attrs.get(attr)
            if _stored(table, pk) is item and current is not None and current == value:
                found.append(item)
            else:
                del bucket[pk]
        return found


def _forgetting_gsi_maps(original):
    def wrapper(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        finally:
            for table in list(self.tables.values()):
                gsi_forget(table)

    return wrapper


def apply() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    only = threading.local()

    def all_items(self):
        items = []
        mine = getattr(only, "table", None) is self
        if mine and getattr(only, "candidates", None) is not None:
            items = list(only.candidates)  # an index query: the items its index holds
            sets = ()
        elif mine and getattr(only, "hash_key", None) is not None:
            hash_set = self.items.get(only.hash_key)
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
        if index_name:
            candidates = gsi_candidates(self, index_name, kwargs.get("hash_key_conditions"))
            if candidates is None:
                return original_query(self, hash_key, *args, **kwargs)
            only.table, only.candidates = self, candidates
            try:
                return original_query(self, hash_key, *args, **kwargs)
            finally:
                only.table = only.candidates = None
        if hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        only.table, only.hash_key = self, hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            only.table = only.hash_key = None

    Table.query = query

    # Keep the GSI map up to date (see gsi_candidates).
    from moto.dynamodb.models import DynamoDBBackend

    original_put_item = Table.put_item

    def put_item(self, *args, **kwargs):
        item = original_put_item(self, *args, **kwargs)
        gsi_index_item(self, item)
        return item

    Table.put_item = put_item

    # A stream record is delivered inside PutItem/UpdateItem (synchronous delivery) before they
    # return: index the new image first, so a consumer's index query sees it as moto's scan would.
    from moto.dynamodb.models.table import StreamShard

    original_stream_add = StreamShard.add

    def stream_add(self, old, new):
        gsi_index_item(self.table, new)
        return original_stream_add(self, old, new)

    StreamShard.add = stream_add

    original_update_item = DynamoDBBackend.update_item

    def update_item(self, table_name, key, *args, **kwargs):
        try:
            return original_update_item(self, table_name, key, *args, **kwargs)
        finally:  # also after a failure: an update may have changed the item before failing
            table = self.tables.get(table_name)
            if table is not None and "_polku_gsi" in table.__dict__:
                try:
                    hash_value = DynamoType(key[table.hash_key_attr])
                    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                    gsi_index_item(table, _stored(table, (hash_value, range_value)))
                except Exception:  # noqa: BLE001 - a malformed key: moto has raised already
                    gsi_forget(table)

    DynamoDBBackend.update_item = update_item

    for method in ("transact_write_items", "execute_statement", "import_table"):
        if getattr(DynamoDBBackend, method, None) is not None:
            setattr(DynamoDBBackend, method, _forgetting_gsi_maps(getattr(DynamoDBBackend, method)))
