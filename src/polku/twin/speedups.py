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

import copy as _copy
import datetime as _dt
import sys
import threading

_applied = False
_lock = threading.Lock()
_cache: dict = {}


def clear() -> None:
    """Forget the cached Step Functions task clients (e.g. when the transport changes)."""
    with _lock:
        _cache.clear()


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
            if self._client is None:
                _share_loader(self.session)
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

    # moto checks an item's 400 KB limit in LimitedSizeDict.__setitem__ by summing the size
    # of every attribute already set, so building an item is quadratic in its attributes (a
    # profile with its lists of applied events and products is re-measured dozens of times).
    # The same check, attribute by attribute in the same order, with a running total.
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def item_init(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        converted = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            value = DynamoType(value)
            total += bytesize(key) + value.size()
            if total > 405000:  # the limit LimitedSizeDict enforces
                raise ItemSizeTooLarge
            dict.__setitem__(converted, key, value)
        self.attrs = converted

    Item.__init__ = item_init

    # moto's Step Functions parses every JSONPath (Parameters, ResultPath, ...) with a fresh
    # PLY parser on each evaluation; a parsed path is immutable, so each is parsed once.
    from functools import lru_cache

    from moto.stepfunctions.parser.asl.component.common.path import result_path as rp_mod
    from moto.stepfunctions.parser.asl.utils import json_path as jp_mod

    jp_mod.parse = lru_cache(maxsize=4096)(jp_mod.parse)
    rp_mod.parse = lru_cache(maxsize=4096)(rp_mod.parse)

    # moto serialises every response member by asking six alias providers, for each member of
    # each item, which names the value may have in the Python object (new provider objects,
    # xform_name, ...). For a plain dict those names depend only on the member's key, its shape
    # and the shape's parent; they are worked out once per (picker kind, key, shape, parent)
    # and tried in the same order.
    from moto.core import serialize as ser_mod
    from moto.core.utils import get_value

    original_pick = ser_mod.AttributePicker.__call__
    names: dict = {}

    def pick(self, context):
        obj = context.obj
        if type(obj) is not dict:
            return original_pick(self, context)
        shape = context.shape
        parent = getattr(shape, "parent", None)
        cache_key = (type(self), tuple(self.alias_providers), context.key, id(shape), id(parent))
        hit = names.get(cache_key)
        if hit is None or hit[0] is not shape or hit[1] is not parent:
            hit = names[cache_key] = (shape, parent, tuple(self.get_possible_keys(context)))
        for possible_key in hit[2]:
            value = get_value(obj, possible_key, ser_mod.MISSING)
            if value is not ser_mod.MISSING:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    value = transform(value)
                    break
        return value

    ser_mod.AttributePicker.__call__ = pick
    apply_history_copy()
    apply_error_lookup()  # (update expressions: polku.twin.expression_speedups)
    apply_serialiser()
    apply_user_agent_cache()

    # moto lists a response class's methods (inspect.getmembers) on every request to find the
    # action; the methods of a class are listed once.
    from moto.core import responses as responses_mod

    original_method_names = responses_mod.method_names_from_class
    method_names: dict = {}

    def cached_method_names(clazz):
        names_ = method_names.get(clazz)
        if names_ is None:
            names_ = method_names[clazz] = original_method_names(clazz)
        return names_

    responses_mod.method_names_from_class = cached_method_names

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


def _forgetting_gsi_maps(original):
    def wrapper(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        finally:
            for table in list(self.tables.values()):
                gsi_forget(table)

    return wrapper


# ------------------------------------------------------- DynamoDB item serialisation
# moto serialises a DynamoDB response generically: for every attribute of every item it walks
# the AttributeValue shape member by member, asking its alias providers which key holds each
# member (about 1 ms per item of 20 attributes). An AttributeValue held in a plain dict with
# only DynamoDB's own member names is serialised here in one pass with the same result: the
# members in the shape's order, None members left out, strings through str(), binaries base64,
# nested maps and lists recursively. Anything else (another shape, an unexpected key, a value
# moto would treat specially) goes through moto's serialiser as before.
# tests/unit/test_twin_speedups.py compares both on a range of items.
_AV_MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_AV_KEYS = frozenset(_AV_MEMBERS)
_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
fast_serialise = {"enabled": True}


class _Unhandled(Exception):
    pass


def _string(value):
    return str(value) if value not in [None, {}, []] else value


def _attribute_value(serializer, value: dict) -> dict:
    if type(value) is not dict or not value.keys() <= _AV_KEYS:
        raise _Unhandled
    out = {}
    for member in _AV_MEMBERS:
        v = value.get(member)
        if v is None:
            continue
        if member == "S" or member == "N":
            out[member] = _string(v)
        elif member == "NULL" or member == "BOOL":
            out[member] = v
        elif member == "B":
            out[member] = serializer._base64(v)
        elif member == "M":
            if type(v) is not dict:
                raise _Unhandled
            out[member] = {k: _attribute_value(serializer, x) for k, x in v.items() if x is not None}
        else:  # SS, NS, BS, L
            if type(v) is not list or None in v:
                raise _Unhandled
            if member == "L":
                out[member] = [_attribute_value(serializer, x) for x in v]
            elif member == "BS":
                out[member] = [serializer._base64(x) for x in v]
            else:
                out[member] = [_string(x) for x in v]
    return out


def _fast_ok(serializer) -> bool:
    if not fast_serialise["enabled"]:
        return False
    picker = serializer._value_picker
    if getattr(picker, "response_transformers", None):
        return False
    model = serializer.operation_model
    return model is not None and model.service_model.service_name in _SERVICES


def apply_serialiser() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original_structure = BaseJSONSerializer._serialize_type_structure
    original_map = BaseJSONSerializer._serialize_type_map

    def serialize_structure(self, serialized, value, shape, key):
        if key and shape.name == "AttributeValue" and value is not None and type(value) is dict and _fast_ok(self):
            try:
                result = _attribute_value(self, value)
            except _Unhandled:
                pass
            else:
                self._default_serialize(serialized, result, shape, key)
                return
        return original_structure(self, serialized, value, shape, key)

    def serialize_map(self, serialized, value, shape, key):
        if type(value) is dict and getattr(shape.value, "name", None) == "AttributeValue" and _fast_ok(self):
            try:
                result = {k: _attribute_value(self, v) for k, v in value.items() if v is not None}
            except _Unhandled:
                pass
            else:
                self._default_serialize(serialized, result, shape, key)
                return
        return original_map(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure
    BaseJSONSerializer._serialize_type_map = serialize_map


# ------------------------------------------------------------- botocore User-Agent
# botocore rebuilds the User-Agent header (platform, versions, config, feature ids, each part
# sanitised character by character) twice per request, about 6 % of a simulation. The string
# depends on the UserAgentString object and the request's feature ids only; it is built once
# per object and set of features (set_client_features forgets them; a copy for another
# client config starts without them).
def apply_user_agent_cache() -> None:
    from botocore import useragent

    original_to_string = useragent.UserAgentString.to_string
    original_set_features = useragent.UserAgentString.set_client_features

    def to_string(self):
        ctx = useragent.get_context()
        key = (frozenset(ctx.features) if ctx is not None else frozenset(),
               frozenset(self._client_features or ()))
        cache = self.__dict__.get("_polku_ua")
        if cache is None:
            cache = self.__dict__["_polku_ua"] = {}
        value = cache.get(key)
        if value is None:
            value = cache[key] = original_to_string(self)
        return value

    def set_client_features(self, features):
        self.__dict__.pop("_polku_ua", None)
        return original_set_features(self, features)

    original_with_config = useragent.UserAgentString.with_client_config

    def with_client_config(self, client_config):
        copied = original_with_config(self, client_config)
        copied.__dict__.pop("_polku_ua", None)  # another config: another string
        return copied

    useragent.UserAgentString.to_string = to_string
    useragent.UserAgentString.set_client_features = set_client_features
    useragent.UserAgentString.with_client_config = with_client_config


# ------------------------------------------------------------ Step Functions history
# moto hands out an execution's history (GetExecutionHistory, the simulation's read-back) as a
# copy.deepcopy of its event list: generic deepcopy costs about as much as a journey's Lambda
# tasks. The events are plain dicts and lists of strings, numbers, booleans and datetimes; they
# are copied here the way deepcopy copies them (dicts and lists rebuilt, keys and values copied
# recursively, shared parts copied once, same memo), except that a datetime, which is immutable,
# is kept rather than rebuilt as an equal one. Anything else still goes through copy.deepcopy.
# tests/unit/test_twin_speedups.py compares the two on a real history.
_ATOMIC = frozenset({str, int, float, bool, type(None), bytes, _dt.datetime})


def plain_deepcopy(value, memo=None):
    if memo is None:
        memo = {}
    return _plain_copy(value, memo)


def _plain_copy(value, memo):
    t = type(value)
    if t in _ATOMIC:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if t is dict:
        out = {}
        memo[id(value)] = out
        for k, v in value.items():
            out[k if type(k) in _ATOMIC else _plain_copy(k, memo)] = v if type(v) in _ATOMIC else _plain_copy(v, memo)
        return out
    if t is list:
        out = []
        memo[id(value)] = out
        append = out.append
        for v in value:
            append(v if type(v) in _ATOMIC else _plain_copy(v, memo))
        return out
    return _copy.deepcopy(value, memo)


# The ASL interpreter also deep-copies the JSON values it passes between states (a state's
# input, each JSONPath result, a task frame's stack); its modules get a ``copy`` module whose
# deepcopy is plain_deepcopy (same results; anything but dicts, lists and scalars still goes
# through copy.deepcopy).
_ASL_MODULES = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.environment",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.json_manipulation.json_merge",
)


def _copy_module():
    import copy
    import types

    shim = types.ModuleType("copy")
    shim.__dict__.update(copy.__dict__)
    shim.deepcopy = plain_deepcopy
    return shim


def apply_history_copy() -> None:
    import copy
    import importlib

    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def get_event_history(self):
        with self._mutex:
            return plain_deepcopy(self._history_event_list)

    EventManager.get_event_history = get_event_history

    shim = _copy_module()
    for name in _ASL_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is copy:
            module.copy = shim


# ------------------------------------------------------------ moto error lookup
# moto serialises an error (ConditionalCheckFailed, ResourceNotFound, ...) after looking its code
# up in a table built from all the error shapes of the service; ErrorLookupFactory caches those
# tables per service id, but get_error_model makes a new factory (and so a new table) for every
# error. The factories share one cache: the table depends only on the service's (fixed) model.
_error_luts: dict = {}


def apply_error_lookup() -> None:
    from moto.core import errors as errors_mod

    def init(self):
        self._error_lut_cache = _error_luts

    errors_mod.ErrorLookupFactory.__init__ = init
