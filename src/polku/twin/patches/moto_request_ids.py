"""Speed-ups of moto's per-request work (behaviour unchanged, down to the random sequence).

* Request ids: moto gives every response a 52-character request id, drawn one character at a
  time with ``Random.choice`` (``_randbelow``: ``getrandbits(k)``, drawn again while out of
  range). That was ~3 % of a journey simulation. ``MotoRandom.get_random_string`` here draws the
  same 32-bit Mersenne Twister words in the same order -- ``getrandbits(32 * m)`` is ``m``
  consecutive words, the first in the lowest bits, and ``getrandbits(k)`` for ``k <= 32`` is one
  word's top ``k`` bits -- and takes exactly as many words as ``choice`` would, so the strings
  and the generator's state afterwards are the same (moto's random can be seeded; ids stay
  reproducible). tests/unit/test_twin_request_speedups.py compares both for many seeds.
"""

from __future__ import annotations

import random as _random
import string
import struct

_applied = False
_UNPACK = {}


def _words(n: int):
    unpack = _UNPACK.get(n)
    if unpack is None:
        unpack = _UNPACK[n] = struct.Struct(f"<{n}I").unpack
    return unpack


def fast_random_string(rnd, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
    """What MotoRandom.get_random_string returns (and how far it moves the generator)."""
    pool = string.ascii_letters
    if include_digits:
        pool += string.digits
    n = len(pool)
    shift = 32 - n.bit_length()
    out: list[str] = []
    need = length
    getrandbits = rnd.getrandbits
    while need > 0:
        bits = getrandbits(32 * need)
        for word in _words(need)(bits.to_bytes(4 * need, "little")):
            r = word >> shift
            if r < n:
                out.append(pool[r])
        need = length - len(out)
    random_str = "".join(out)
    return random_str.lower() if lower_case else random_str


def _exact_for(cls) -> bool:
    """The shortcut draws what Random.choice draws only for the standard generator's methods."""
    return (cls.choice is _random.Random.choice and cls.getrandbits is _random.Random.getrandbits
            and cls._randbelow is _random.Random._randbelow_with_getrandbits)


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from moto.moto_api._internal.moto_random import MotoRandom

    if not _exact_for(MotoRandom):
        return
    original = MotoRandom.get_random_string

    def get_random_string(self, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        if type(self).choice is not _random.Random.choice or not isinstance(length, int):
            return original(self, length, include_digits, lower_case)
        return fast_random_string(self, length, include_digits, lower_case)

    get_random_string.__wrapped__ = original
    MotoRandom.get_random_string = get_random_string
