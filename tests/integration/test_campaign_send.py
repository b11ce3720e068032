"""A campaign on the twin's campaign state machine: audience, waves at each recipient's local time,
the journeys' send policy, A/B and holdout, a second run of the same execution name, and every AWS
call of the Campaign and Send functions allowed by their policies in template.yaml."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from polku import clock
from polku.twin import iam_agreement
from tests.integration import campaign_helpers as h

pytestmark = pytest.mark.twin


@pytest.fixture(scope="module")
def grants(twin, template):
    from test_template_validation import translate

    return iam_agreement.function_grants(translate(template), twin.resolver)


def test_local_time_waves_policy_variants_holdout_and_rights(twin, virtual_clock, grants):
    h.move_clock(virtual_clock, "2026-04-14T04:00:00Z")
    tag = h.tag()
    ids = h.audience(tag, 90, consent_every=2)  # half may be e-mailed
    with h.ProfileModel.batch_write() as batch:  # one consented customer has no e-mail address at all
        batch.save(h.ProfileModel(f"{tag}-noaddr", traits={"batch": tag}, consents={"email": {"granted": True}},
                                  time_zone="Europe/Helsinki"))
    camp, seg = h.campaign(tag, send={"local_time": "2026-04-14T09:00"}, holdout=0.2)
    with iam_agreement.recording() as rec:
        arn = h.start(twin, camp, seg, started_at="2026-04-14T04:00:00Z")
        done = h.wait_done(twin, arn)
    assert done["status"] == "SUCCEEDED", done
    plan = json.loads(done["output"])["plan"]
    members = {cid for i, cid in enumerate(ids) if i % 2 == 0} | {f"{tag}-noaddr"}
    assert plan["audience"] == len(members)  # the segment: batch and consent
    # 09:00 in Helsinki (06:00 UTC), Prague (07:00 UTC) and New York (13:00 UTC): three waves.
    assert [w["at"] for w in plan["waves"]] == ["2026-04-14T06:00:00.000Z", "2026-04-14T07:00:00.000Z",
                                                "2026-04-14T13:00:00.000Z"]
    msgs = h.messages(camp)
    by_customer = Counter(m.customer_id for m in msgs)
    assert set(by_customer.values()) == {1}
    sent = [m for m in msgs if m.status == "sent"]
    zones = {0: "06:00", 1: "07:00", 2: "13:00"}
    for m in sent:
        assert m.sent_at[11:16] == zones[int(m.customer_id[-5:]) % 3], m.customer_id
    skipped = [(m.customer_id, m.reason) for m in msgs if m.status == "skipped"]
    noaddr = f"{tag}-noaddr"
    assert skipped == ([(noaddr, "requested channel email: no address")] if noaddr in by_customer else [])
    assert {m.variant for m in sent} == {"A", "B"}
    assert {m.message_type for m in sent} == {"newsletter"}
    held = plan["holdout"]
    assert held and len(by_customer) == len(members) - held
    subjects = {(m.variant, m.subject) for m in sent}
    assert {s for v, s in subjects if v == "A"} == {"New spring roasts at Polku Shop"}
    assert all(s.endswith("your spring coffee is here") for v, s in subjects if v == "B")

    # The run cannot start twice (Step Functions keeps its name), and a batch delivered again (a retry,
    # a redrive) is answered from the message log: nothing is sent twice.
    sfn = twin.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        h.start(twin, camp, seg, started_at="2026-04-14T04:00:00Z")
    again = [{"customer_id": m.customer_id, "variant": m.variant} for m in sent[:3]]
    answer = json.loads(twin.client("lambda").invoke(
        FunctionName=twin.names["SendFunction"],
        Payload=json.dumps({"action": "campaign_batch", "Items": again, "BatchInput": {
            "campaign": camp.to_dict(), "run_id": "r1", "send_at": "2026-04-14T06:00:00.000Z"}}))["Payload"].read())
    assert answer["replayed"] == 3 and answer["recipients"] == 3 and answer["retry_at"] is None, answer
    assert Counter(m.customer_id for m in h.messages(camp)) == by_customer

    # The report: the campaign's sends are one-off volume of April, with its holdout beside them.
    from polku.reporting.build import compute_figures
    from polku.settings import get_settings

    fig = compute_figures(twin.client("dynamodb"), get_settings())
    [row] = [c for c in fig["campaigns"] if c["campaign"] == camp.name]
    assert (row["sent"], row["customers"], row["holdout_customers"]) == (len(sent), len(sent), held)
    assert set(row["variants"]) == {"A", "B"} and row["lift"] is None  # nobody bought: no lift to tell
    april = next(r for r in fig["volume_by_month"] if r["month"] == "2026-04")
    assert april["campaign"] >= len(sent) and april["one_off"] >= april["campaign"]
    assert camp.journey not in fig["journeys"]

    result = iam_agreement.check(rec, grants)
    mine = {fn: rows for fn, rows in result.missing.items() if fn in ("CampaignFunction", "SendFunction")}
    assert not mine, result.report()
    assert result.called.get("CampaignFunction", 0) > 0 and result.called.get("SendFunction", 0) > 0


def test_an_offer_is_switched_on_before_each_message_and_off_when_it_has_run_out(twin, virtual_clock, grants):
    h.move_clock(virtual_clock, "2026-04-14T04:00:00Z")
    from polku.campaigns.sending import offer_id
    from polku.data.journey_state import JourneyStateModel
    from polku.journeys.steps import plain

    tag = h.tag()
    ids = h.audience(tag, 6)
    camp, seg = h.campaign(tag, holdout=0, offer={"code": "SPRING15", "discount_percent": 15, "valid_days": 2,
                                                  "title": "15 % off spring roasts"})
    with iam_agreement.recording() as rec:
        arn = h.start(twin, camp, seg, started_at="2026-04-14T04:00:00Z")
        done = h.wait_done(twin, arn)
    assert done["status"] == "SUCCEEDED", done
    plan = json.loads(done["output"])["plan"]
    last_wave = plan["waves"][-1]["at"]
    assert plan["offer_ends_at"] == clock.to_iso(clock.parse_iso(last_wave) + dt.timedelta(days=2))
    sent = [m for m in h.messages(camp) if m.status == "sent"]
    assert len(sent) == 6
    for cid in ids:
        item = JourneyStateModel.get(cid, f"offer#{offer_id(camp, 'r1', cid)}", consistent_read=True)
        detail = plain(item.detail)
        assert item.status == "revoked" and detail["code"] == "SPRING15" and item.journey == camp.journey
        assert detail["revocation"]["reason"] == "expired"
        assert detail["revocation"]["revoked_at"] >= plan["offer_ends_at"][:19]
    from polku.messaging.outbox import delivered, email_of

    emails, _ = delivered(twin)
    text = email_of(emails[sent[0].message_id]).text
    assert "15 % off spring roasts" in text and "SPRING15" in text
    result = iam_agreement.check(rec, grants)
    mine = {fn: rows for fn, rows in result.missing.items() if fn in ("CampaignFunction", "SendFunction")}
    assert not mine, result.report()
