"""The nurture score gate compares the lead score as of now (decayed), not as stored."""

from __future__ import annotations

import datetime as dt

from polku.journeys.steps import derive_profile, lead_score

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 5, 9, 5, tzinfo=UTC)


def test_stored_score_is_decayed_to_now_with_the_tracking_half_life():
    view = {"lead_score": 31, "lead_score_at": "2026-01-05T09:05:00Z", "counts": {}}
    assert lead_score(derive_profile(view, T0)) == 31
    three_days = lead_score(derive_profile(view, T0 + dt.timedelta(days=3)))
    assert round(three_days, 1) == 26.7  # 31 * 0.5 ** (3 / 14): below a threshold of 30
    assert lead_score(derive_profile(view, T0 + dt.timedelta(days=14))) == 15.5


def test_the_template_gives_the_gate_the_profile_updaters_lead_score_rules(template):
    env = lambda lid: template.function_properties(lid)["Environment"]["Variables"]  # noqa: E731
    assert env("JourneyStepFunction")["LEAD_SCORE_RULES"] == env("ProfileUpdaterFunction")["LEAD_SCORE_RULES"]
