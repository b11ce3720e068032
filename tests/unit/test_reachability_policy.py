"""Who may start a journey (issue #21, 9): the reachability decision (Send's channel choice), its
wait for a profile that has not caught up with the trigger event, the registry's
``requires_reachable`` and the lint rule that holds it against the ASL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polku.journeys.definition import Definition
from polku.journeys.lint_rules import findings_for_file, first_send
from polku.journeys.registry import RegistryError, parse_journey
from polku.messaging import reachability

REPO = Path(__file__).resolve().parents[2]
SEND = "${SendFunctionArn}"
EVENT_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def profile(**fields) -> dict:
    return {"customer_id": "c1", "traits": {}, "consents": {}, "applied": [], **fields}


# ---------------------------------------------------------------- the decision
@pytest.mark.parametrize("p, channel, why", [
    (None, None, "no profile"),
    (profile(), None, "email: no address"),
    (profile(traits={"email": "a@example.com"}), None, "email: no consent"),
    (profile(traits={"email": "a@example.com"}, consents={"email": {"granted": False}}), None, "email: consent withdrawn"),
    (profile(traits={"email": "a@example.com"}, consents={"email": {"granted": True}}), "email", "default"),
    (profile(traits={"phone": "+358401234567"}, consents={"sms": "granted", "email": True}), "sms", "default"),
    # a linked browser (the web inbox) is never a fallback: it does not make a customer reachable
    (profile(anonymous_ids=["a1"], consents={"web": True}), None, "no usable channel"),
])
def test_reachable_means_send_would_find_a_consented_channel_with_an_address(p, channel, why):
    d = reachability.decide(p, "c1")
    assert d.channel == channel and why in d.reason


def test_unconfirmed_double_opt_in_still_counts_as_reachable():
    """Send holds such a message until the link is used; the customer is on the way, not unreachable."""
    p = profile(traits={"email": "a@example.com"}, consents={"email": {"granted": True, "confirmed": False}})
    assert reachability.decide(p, "c1").ok


# ---------------------------------------------------------------- a profile behind the trigger event
class Reads:
    def __init__(self, *profiles):
        self.profiles, self.sleeps, self.count = list(profiles), [], 0

    def load(self, _cid):
        self.count += 1
        return self.profiles.pop(0) if len(self.profiles) > 1 else self.profiles[0]


@pytest.fixture(autouse=True)
def fresh_give_up(monkeypatch):
    monkeypatch.setitem(reachability._gave_up, "at", -1e9)


def test_an_unreachable_verdict_on_a_profile_without_the_event_is_read_again():
    reachable = profile(traits={"email": "a@example.com"}, consents={"email": True}, applied=["e1"])
    reads = Reads(None, profile(applied=["e0"]), reachable)
    d = reachability.check("c1", event_id="e1", load=reads.load, sleep=reads.sleeps.append, monotonic=lambda: 0.0)
    assert d.channel == "email" and reads.count == 3 and reads.sleeps == list(reachability.WAITS[:2])


def test_a_profile_that_holds_the_event_is_believed_at_once():
    reads = Reads(profile(applied=["e0", "e1"]))
    d = reachability.check("c1", event_id="e1", load=reads.load, sleep=reads.sleeps.append, monotonic=lambda: 0.0)
    assert not d.ok and reads.count == 1 and reads.sleeps == []


def test_a_profile_that_never_catches_up_raises_and_later_checks_do_not_wait():
    reads = Reads(None)
    with pytest.raises(reachability.ProfileBehind, match="c1 has not applied event e1"):
        reachability.check("c1", event_id="e1", load=reads.load, sleep=reads.sleeps.append, monotonic=lambda: 100.0)
    assert reads.sleeps == list(reachability.WAITS)
    again = Reads(None)
    with pytest.raises(reachability.ProfileBehind):
        reachability.check("c2", event_id="e2", load=again.load, sleep=again.sleeps.append, monotonic=lambda: 101.0)
    assert again.sleeps == [] and again.count == 1


def test_without_an_event_the_stored_profile_decides():
    reads = Reads(None)
    assert reachability.check("c1", load=reads.load, sleep=reads.sleeps.append).reason == "no profile"
    assert reads.sleeps == []


# ---------------------------------------------------------------- the registry field
RAW = {"description": "d", "trigger": {"event": "form_submit"}}


def test_requires_reachable_defaults_to_yes_and_must_be_a_boolean():
    assert parse_journey("demo", RAW).starts_only_reachable
    assert parse_journey("demo", {**RAW, "requires_reachable": True}).starts_only_reachable
    assert not parse_journey("demo", {**RAW, "requires_reachable": False}).starts_only_reachable
    with pytest.raises(RegistryError, match="journey 'demo', field requires_reachable: true"):
        parse_journey("demo", {**RAW, "requires_reachable": "no"})


# ---------------------------------------------------------------- lint: the field against the ASL
def send(nxt="Done"):
    return {"Type": "Task", "Resource": SEND, "Parameters": {"template": "welcome"}, "ResultPath": "$.sent", "Next": nxt}


def event_wait(nxt, timeout_to=None):
    s = {"Type": "Task", "Resource": EVENT_WAIT, "TimeoutSeconds": 3600, "ResultPath": "$.ev", "Next": nxt}
    if timeout_to:
        s["Catch"] = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.late", "Next": timeout_to}]
    return s


WAITS_FIRST = {"A": {"Type": "Wait", "Seconds": 3600, "Next": "B"}, "B": event_wait("C"), "C": send(),
               "Done": {"Type": "Succeed"}}


def rules(tmp_path, states, entry=""):
    (tmp_path / "demo.asl.json").write_text(json.dumps({"Comment": "t", "StartAt": "A", "States": states}))
    (tmp_path / "registry.yaml").write_text("version: 1\njourneys:\n  demo:\n    description: test\n"
                                            "    trigger: {event: form_submit, where: {properties.form_id: signup}}\n" + entry)
    path = tmp_path / "demo.asl.json"
    fs = findings_for_file("demo.asl.json", path, path.read_text(), "registry.yaml", None)
    return [f for f in fs if "requires_reachable" in f.message + f.fix]


def test_first_send_passes_time_waits_and_an_event_wait_only_by_its_time_out():
    d = lambda states: Definition.parse(json.dumps({"StartAt": "A", "States": states}))  # noqa: E731
    assert first_send(d({"A": {"Type": "Wait", "Seconds": 3600, "Next": "B"}, "B": send(),
                         "Done": {"Type": "Succeed"}})) == "B"
    assert first_send(d(WAITS_FIRST)) is None
    assert first_send(d({**WAITS_FIRST, "B": event_wait("Done", timeout_to="C")})) == "C"


def test_a_journey_that_waits_for_an_event_before_sending_must_say_who_starts_it(tmp_path):
    [f] = rules(tmp_path, WAITS_FIRST)
    assert f.file == "registry.yaml" and "journey demo" in f.message and "sends only after waiting for an event" in f.message
    assert "requires_reachable: false (start for everyone) or true (start only for reachable" in f.fix
    assert rules(tmp_path, WAITS_FIRST, "    requires_reachable: false\n") == []
    assert rules(tmp_path, WAITS_FIRST, "    requires_reachable: true\n") == []


def test_a_journey_without_sends_cannot_require_reachability(tmp_path):
    states = {"A": {"Type": "Wait", "Seconds": 60, "Next": "Done"}, "Done": {"Type": "Succeed"}}
    [f] = rules(tmp_path, states, "    requires_reachable: true\n")
    assert "has no Send step" in f.message and "set it to false" in f.fix
    assert "has no Send step" in rules(tmp_path, states)[0].message
    assert rules(tmp_path, states, "    requires_reachable: false\n") == []


def test_a_journey_that_sends_first_needs_nothing_said(tmp_path):
    assert rules(tmp_path, {"A": send(), "Done": {"Type": "Succeed"}}) == []


def test_every_shipped_journey_can_send_before_an_event_wait():
    """So each starts only for reachable customers without saying so (docs/journeys.md)."""
    for path in sorted((REPO / "statemachines").glob("*.asl.json")):
        assert first_send(Definition.parse(path.read_text())) is not None, path.name
