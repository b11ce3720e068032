"""The last check before delivery: consent, suppression, caps, quiet hours (table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import FrequencyCaps, check_send

NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc)  # 12:00 in Helsinki
NIGHT = dt.datetime(2026, 1, 5, 21, 0, tzinfo=dt.timezone.utc)  # 23:00 in Helsinki
H = dt.timedelta(hours=1)
R = Recipient("c1", email="a@example.com", phone="+358401234567", consents={"email": True, "sms": True},
              time_zone="Europe/Helsinki")

CASES = [
    ("ok", R, "email", "offer", NOW, False, [], "send", ""),
    ("suppressed", R, "email", "offer", NOW, True, [], "skip", "suppression"),
    ("no consent", Recipient("c1", email="a@example.com"), "email", "offer", NOW, False, [], "skip", "consent"),
    ("no address", R, "push", "offer", NOW, False, [], "skip", "no push address"),
    ("daily cap", R, "email", "offer", NOW, False, [NOW - H, NOW - 2 * H], "skip", "per day"),
    ("weekly cap", R, "email", "offer", NOW, False, [NOW - 30 * H * i for i in range(1, 6)], "skip", "per week"),
    ("old sends do not count", R, "email", "offer", NOW, False, [NOW - 8 * 24 * H] * 9, "send", ""),
    ("quiet hours defer to 08:00 local", R, "sms", "offer", NIGHT, False, [], "defer", "quiet"),
    ("transactional ignores caps and quiet hours", R, "email", "transactional", NIGHT, False, [NOW - H] * 9, "send",
     "transactional"),
    ("transactional still respects suppression", R, "email", "transactional", NOW, True, [], "skip", "suppression"),
]


@pytest.mark.parametrize("name, r, channel, mtype, now, suppressed, recent, action, reason", CASES,
                         ids=[c[0] for c in CASES])
def test_send_policy(name, r, channel, mtype, now, suppressed, recent, action, reason):
    d = check_send(r, channel, mtype, now, suppressed=suppressed, recent_sends=recent, caps=FrequencyCaps(2, 5))
    assert d.action == action and reason in d.reason


def test_defer_names_the_end_of_quiet_hours():
    d = check_send(R, "email", "offer", NIGHT, suppressed=False)
    assert d.retry_at == dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.timezone.utc)  # 08:00 Helsinki


# ---------------------------------------------------------------- caps and quiet hours are settings
def test_caps_and_quiet_hours_come_from_the_settings_with_the_old_defaults():
    from polku.messaging.send_time import QuietHours
    from polku.messaging.wiring import send_policy
    from polku.settings import Settings

    assert send_policy(Settings()) == (FrequencyCaps(2, 5), QuietHours(21, 8))
    env = {"FREQUENCY_CAP_PER_DAY": "3", "FREQUENCY_CAP_PER_WEEK": " 10 ", "QUIET_HOURS_START": "22", "QUIET_HOURS_END": "7"}
    caps, quiet = send_policy(Settings.from_env(env))
    assert (caps, quiet) == (FrequencyCaps(3, 10), QuietHours(22, 7))
    # and the policy uses them: three a day are now allowed, 23:00 Helsinki is quiet, 07:00 is not
    assert check_send(R, "email", "offer", NOW, suppressed=False, recent_sends=[NOW - H, NOW - 2 * H], caps=caps,
                      quiet=quiet).action == "send"
    assert check_send(R, "email", "offer", NIGHT, suppressed=False, caps=caps, quiet=quiet).action == "defer"
    assert check_send(R, "email", "offer", NOW.replace(hour=5), suppressed=False, caps=caps, quiet=quiet).action == "send"
    # equal start and end: no quiet hours
    _, never = send_policy(Settings.from_env({"QUIET_HOURS_START": "8", "QUIET_HOURS_END": "8"}))
    assert check_send(R, "email", "offer", NIGHT, suppressed=False, quiet=never).action == "send"


@pytest.mark.parametrize("env,named", [
    ({"QUIET_HOURS_START": "24"}, "QUIET_HOURS_START"),
    ({"QUIET_HOURS_END": "-1"}, "QUIET_HOURS_END"),
    ({"QUIET_HOURS_START": "nine"}, "QUIET_HOURS_START"),
    ({"FREQUENCY_CAP_PER_DAY": "0"}, "FREQUENCY_CAP_PER_DAY"),
    ({"FREQUENCY_CAP_PER_DAY": "2.5"}, "FREQUENCY_CAP_PER_DAY"),
    ({"FREQUENCY_CAP_PER_WEEK": ""}, "FREQUENCY_CAP_PER_WEEK"),
    ({"FREQUENCY_CAP_PER_DAY": "4", "FREQUENCY_CAP_PER_WEEK": "3"}, "FREQUENCY_CAP_PER_WEEK"),
])
def test_bad_cap_or_quiet_hour_settings_are_refused_naming_the_setting(env, named):
    from polku.messaging.wiring import send_policy
    from polku.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match=named):
        send_policy(Settings.from_env(env))


def test_the_send_function_gets_the_configured_caps_and_quiet_hours(monkeypatch):
    from polku.messaging import wiring
    from polku.messaging.send_time import QuietHours
    from polku.settings import Settings

    monkeypatch.setattr(wiring, "client", lambda service: object())  # no AWS clients (they are cached per process)
    deps = wiring.send_deps(Settings.from_env({"QUIET_HOURS_START": "20", "QUIET_HOURS_END": "9",
                                               "FREQUENCY_CAP_PER_DAY": "1", "FREQUENCY_CAP_PER_WEEK": "4"}))
    assert deps.caps == FrequencyCaps(1, 4) and deps.quiet == QuietHours(20, 9)


def test_the_template_gives_the_send_function_its_cap_and_quiet_hour_settings(template):
    from polku.twin.template import parameter_defaults

    env = template.resources["SendFunction"]["Properties"]["Environment"]["Variables"]
    defaults = parameter_defaults(template)
    for key, param, default in (("QUIET_HOURS_START", "QuietHoursStart", "21"), ("QUIET_HOURS_END", "QuietHoursEnd", "8"),
                                ("FREQUENCY_CAP_PER_DAY", "FrequencyCapPerDay", "2"),
                                ("FREQUENCY_CAP_PER_WEEK", "FrequencyCapPerWeek", "5")):
        assert env[key] == {"Ref": param} and defaults[param] == default
