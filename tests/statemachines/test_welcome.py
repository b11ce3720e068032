from tests.statemachines.conftest import event, exits, identify, messages, of


def signup(c, ts):
    return event(c, "form_submit", ts, form_id="signup")


def test_click_resumes_the_task_token_wait_and_sends_picks(run_journey):
    run = run_journey("welcome")
    c = run.cid("clicker")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        signup(c, "2026-01-05T09:01:00Z"),
        event(c, "email_click", "2026-01-06T18:00:00Z", message_id="m1", url="https://shop.example/x"),
    ])
    assert messages(out, c) == ["SendWelcome", "SendPicks"]
    picks = of(out, c, "message")[1]
    assert picks["at"] == "2026-01-06T18:00:00.000Z"  # resumed by the event, not by the time-out
    assert exits(out, c) == ["goal"]


def test_no_click_takes_the_timeout_branch_opened_gets_nudge(run_journey):
    run = run_journey("welcome")
    c = run.cid("opener")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        signup(c, "2026-01-05T09:01:00Z"),
        event(c, "email_open", "2026-01-05T20:00:00Z", message_id="m1"),
    ])
    assert messages(out, c) == ["SendWelcome", "SendNudge"]
    assert of(out, c, "message")[1]["at"] == "2026-01-08T09:01:00.000Z"  # after the 3-day time-out
    assert exits(out, c) == ["completed"]


def test_neither_open_nor_click_gets_the_resend(run_journey):
    run = run_journey("welcome")
    c = run.cid("silent")
    out = run([identify(c, "2026-01-05T09:00:00Z"), signup(c, "2026-01-05T09:01:00Z")])
    assert messages(out, c) == ["SendWelcome", "SendResend"]
    assert exits(out, c) == ["completed"]


def test_welcome_is_entered_once_only_and_unsubscribe_stops_it(run_journey):
    run = run_journey("welcome")
    c = run.cid("unsub")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        signup(c, "2026-01-05T09:01:00Z"),
        event(c, "unsubscribe", "2026-01-05T12:00:00Z", channel="email"),
        signup(c, "2026-01-20T09:01:00Z"),
    ])
    assert len(of(out, c, "entered")) == 1
    assert exits(out, c) == ["stopped"]
    assert messages(out, c) == ["SendWelcome"]


def test_holdout_customer_never_gets_a_message(run_journey):
    run = run_journey("welcome")
    c = run.cid("control", holdout=True)
    out = run([identify(c, "2026-01-05T09:00:00Z"), signup(c, "2026-01-05T09:01:00Z")])
    assert [h["kind"] for h in out if h["customer_id"] == c] == ["entered", "exited"]
    assert of(out, c, "entered")[0]["variant"] == "holdout" and exits(out, c) == ["holdout"]


def test_holdout_and_split_are_stable_and_both_variants_occur(run_journey):
    from polku.journeys.registry import load
    from polku.journeys.runs import in_holdout
    from polku.journeys.variants import assign

    j = load().get("welcome")
    ids = [f"cust-{i}" for i in range(400)]
    held = [i for i in ids if in_holdout(j, i)]
    variants = {assign(i, "welcome", j.split) for i in ids}
    assert 5 <= len(held) <= 40  # about 5 %
    assert variants == {"A", "B"}
    assert held == [i for i in ids if in_holdout(j, i)]
