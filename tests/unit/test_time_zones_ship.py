"""The IANA time zones come with Polku (the tzdata package), not from the machine: a Lambda runtime
image without /usr/share/zoneinfo must still know every zone a customer or store names."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = """
import zoneinfo
from polku.tracking.validation import Invalid, check_time_zone
from polku.journeys import stores
assert zoneinfo.TZPATH == (), zoneinfo.TZPATH
check_time_zone("America/New_York", "traits.time_zone")
check_time_zone("Europe/Helsinki", "traits.time_zone")
try:
    check_time_zone("Not/AZone", "traits.time_zone")
    raise SystemExit("Not/AZone accepted")
except Invalid:
    pass
assert stores.current(), "the stores file names zones it could not find"
print(zoneinfo.ZoneInfo("America/New_York").utcoffset(__import__("datetime").datetime(2026, 7, 1)))
"""


def test_zones_are_known_without_the_system_database():
    env = {**os.environ, "PYTHONTZPATH": ""}  # no system zone folders: only the tzdata package
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "-1 day, 20:00:00"
