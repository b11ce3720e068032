"""Journey policies a marketer checks by the outcome: the lead-score gate, store hours, event dates,
the sales hand-over (real ASL, real handlers, virtual clock)."""

from __future__ import annotations

from tests.statemachines.conftest import actions, event, exits, identify, of


def sent_states(happenings, customer) -> list[str]:
    return [h["state"] for h in of(happenings, customer, "message") if h.get("status") == "sent"]


# ---------------------------------------------------------------- nurture: the score as of now
def test_nurture_gate_reads_the_lead_score_decayed_to_now(run_journey):
    """identify (10) + lead form (15) + six page views (6) = 31 on day 0; three days later the score
    is 26.7 (half-life 14 days), under the threshold of 30: no hand-over, the next lesson instead."""
    run = run_journey("nurture")
    c = run.cid("cooling")
    lines = [identify(c, "2026-01-05T08:00:00Z"), event(c, "form_submit", "2026-01-05T09:00:00Z", form_id="lead")]
    lines += [event(c, "page_view", f"2026-01-05T09:0{i}:00Z", url=f"https://shop.example/{i}") for i in range(6)]
    out = run(lines)
    assert "sales_handoff" not in actions(out, c)
    assert sent_states(out, c) == ["SendLesson1", "SendLesson2", "SendLesson3"]
    assert exits(out, c) == ["completed"]
