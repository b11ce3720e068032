"""The 400 KB item check with a running total: moto checks an item's 400 KB limit in LimitedSizeDict.__setitem__ by summing the size of every
attribute already set, so building an item is quadratic in its attributes. The same check,
attribute by attribute in the same order, with a running total.

Target: moto.dynamodb.models.dynamo_type.Item.__init__ (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: see the table in docs/benchmarks.md (twin patches); test: tests/unit/test_twin_speedups.py::test_item_size_limit_is_checked_as_moto_does.
"""

from __future__ import annotations


def apply() -> None:
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
