"""Per-call facts for the cost model, counted on the local twin (``cost_model.py --measure``).

One customer goes through the real handlers on the twin, in simulated time, while
:mod:`polku.twin.iam_agreement` records every AWS call per function and every Lambda invocation is
counted:

* ``tracked_event``: one ``page_view`` of a known customer through the HTTP API (TrackApi), the
  events stream (ProfileUpdater, JourneyTrigger; the twin delivers one record per invocation);
* ``campaign_batch``: the Send function with one batch of a campaign's recipients, as the
  campaign's Distributed Map hands it;
* ``journey_entries``: per journey of :data:`ENTRIES`, the event that enters it, and the run to its
  end with no reaction (welcome: the mail, three days without a click, the open check, the resend,
  the exit; abandoned_cart: the send time, the reminder with recommendations, the discount granted,
  mailed and revoked). The calls of a plain tracked event (the phase above, for the same customer)
  are taken off, so what is left is the journey's.

Each phase runs twice, for new customers; the second (warm: secrets and clients cached, as in a
warm Lambda container) is kept. Counts only (no times): the same code gives the same numbers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
CALLS = REPO / "benchmarks" / "cost_calls.json"
REGISTRY = REPO / "statemachines" / "registry.yaml"
SITE_KEY = "demo-shop"


@contextlib.contextmanager
def _counting_invocations():
    """Count every handler invocation per function (logical id) while inside."""
    from polku.twin import lambda_runtime

    counts: Counter = Counter()
    original = lambda_runtime.invoke

    def invoke(name, event):
        spec = lambda_runtime.registered().get(name)
        counts[spec.logical_id if spec else name] += 1
        return original(name, event)

    lambda_runtime.invoke = invoke
    try:
        yield counts
    finally:
        lambda_runtime.invoke = original


def _simulation_class():
    from polku.journeys.simulate import Simulation

    class ThroughApi(Simulation):
        """Tracking events go through the twin's HTTP API (the TrackApi function), not in-process."""

        def _feed(self, ev):
            if ev.body["type"] == "identify":
                return super()._feed(ev)
            import requests

            r = requests.post(f"{self.twin.api_url}/v1/events", data=json.dumps({"site_key": SITE_KEY, "events": [ev.body]}),
                              headers={"Content-Type": "text/plain"}, timeout=60)
            if r.status_code not in (200, 202) or r.json().get("rejected"):
                raise RuntimeError(f"the twin refused the event: {r.status_code} {r.text[:300]}")
            return {ev.body["customer_id"]} if ev.body.get("customer_id") else set()

    return ThroughApi


def _customer(tag: str, journey: str) -> str:
    from polku.journeys.registry import load
    from polku.journeys.runs import in_holdout

    j = load(REGISTRY).get(journey)
    return next(f"cost-{tag}-{i}" for i in range(1000) if not in_holdout(j, f"cost-{tag}-{i}"))


def _phase(twin, lines: list[dict], expect_exit: str | None = None) -> tuple[Counter, Counter]:
    """Run ``lines`` on the twin; the AWS calls ((function, action, resource) -> n) and invocations.
    With ``expect_exit``, the run must end so (one exit of that reason, every message sent)."""
    from polku.journeys.simulate import parse_timeline
    from polku.twin import iam_agreement

    from polku.journeys import registry

    reg = registry.load(REGISTRY)
    realtime = [j.name for j in reg.journeys.values() if not j.trigger.scheduled]  # no ticks: they scan everyone
    sim = _simulation_class()(realtime, twin=twin, registry=reg)
    with _counting_invocations() as invocations, iam_agreement.recording() as rec:
        happenings = sim.run(parse_timeline(json.dumps(line) for line in lines))
    if expect_exit:
        exits = [h.get("reason") for h in happenings if h["kind"] == "exited"]
        failed = [h for h in happenings if h["kind"] == "message" and h.get("status") != "sent"]
        if exits != [expect_exit] or failed:
            raise RuntimeError(f"the run did not go as the cost model counts it (exits {exits}, expected "
                               f"[{expect_exit!r}]; messages not sent: {failed[:3]})")
    calls: Counter = Counter()
    for call, n in rec.calls.items():
        calls[(call.function, call.action, call.resource)] += n
    for (fn, action), n in rec.unmapped.items():
        calls[(fn, action, "?")] += n
    return calls, invocations


def _resource_name(twin, arn: str) -> str:
    """An ARN as the template's logical id (table/index, bus, ...), or the readable end of it."""
    if ":table/" in arn:
        tables = {twin.names.get(t): t for t in twin.template.of_type("AWS::DynamoDB::Table")}
        table, _, index = arn.split(":table/", 1)[1].partition("/index/")
        name = tables.get(table, table)
        return f"{name}/{index}" if index else name
    if arn.startswith("arn:aws:s3:::"):
        bucket, _, key = arn[len("arn:aws:s3:::"):].partition("/")
        buckets = {twin.names.get(b): b for b in twin.template.of_type("AWS::S3::Bucket")}
        return buckets.get(bucket, bucket) + (f"/{key}" if key else "")
    if ":stateMachine:" in arn:
        return "stateMachine " + arn.split(":stateMachine:", 1)[1]
    tail = arn.rsplit(":", 1)[-1]
    kind, _, rest = tail.partition("/")
    physical = {v: k for k, v in twin.names.items()}
    return physical.get(rest or kind, tail)


def _as_rows(twin, calls: Counter) -> list[list]:
    rows: Counter = Counter()
    for (fn, action, resource), n in calls.items():
        if action.startswith("secretsmanager:"):
            continue  # cached by a warm container (polku.secret_cache)
        if action == "s3:GetObject" and resource.endswith("/registry.yaml"):
            continue  # the published journey registry, cached by a warm container for a while (registry.current)
        if action.startswith("ses:") and ":configuration-set/" in resource:
            continue  # the same call, noted once more for its configuration set (IAM checks both)
        rows[(fn, action, _resource_name(twin, resource))] += n
    return [[fn, action, res, n] for (fn, action, res), n in sorted(rows.items())]


# The journeys run to their end with no reaction, and the event that enters each.
ENTRIES = {
    "welcome": ("form_submit", {"form_id": "signup"}),
    "abandoned_cart": ("add_to_cart", {"product_id": "p-cost-1", "price": 4.5, "quantity": 1}),
}


def measure(twin=None) -> dict:
    """Run the phases on ``twin`` (or a twin of its own) and return the counts."""
    from polku import clock
    from polku.settings import get_settings

    own = twin is None
    if own:
        from polku.twin.twin import Twin

        twin = Twin(TEMPLATE, api_port=0).start()
        get_settings.cache_clear()
    try:
        _ensure_model(twin)
        handler = sys.modules.get("polku_fn.recommend.handler")
        if handler is not None:  # a container's own model cache (a test may have made it check S3 on every call)
            handler._cache = None
        kept: dict = {}
        for attempt in range(2):  # the second, warm, is kept
            for n, (journey, (etype, props)) in enumerate(ENTRIES.items()):
                cid = _customer(uuid.uuid4().hex[:8], journey)
                day = dt.datetime(2026, 1, 5 + 7 * (2 * attempt + n), 7, 30, tzinfo=dt.timezone.utc)  # 09:30 Helsinki

                def at(minutes: int) -> str:
                    return clock.to_iso(day + dt.timedelta(minutes=minutes))

                traits = {"email": f"{cid}@example.com", "first_name": "Aino", "time_zone": "Europe/Helsinki",
                          "locale": "en", "consents": {"email": True}}
                # a signed-in browser: identify links it, then its events name the customer
                who = {"customer_id": cid, "anonymous_id": f"a-{cid}"}
                _phase(twin, [{"type": "identify", **who, "ts": at(0), "properties": traits}])
                event = _phase(twin, [{"type": "page_view", **who, "ts": at(1),
                                       "event_id": f"cost-{uuid.uuid4().hex}", "properties": {"url": "https://shop.example.com/"}}])
                entry = _phase(twin, [{"type": etype, **who, "ts": at(2), "event_id": f"cost-{uuid.uuid4().hex}",
                                       "properties": props}], expect_exit="completed")
                kept[journey] = (event, entry)
        (event_calls, event_inv), _ = kept["welcome"]
        return {
            "about": "AWS calls and Lambda invocations counted on the local twin by benchmarks/cost_calls.py "
                     "(python benchmarks/cost_model.py --measure); do not edit by hand",
            "tracked_event": {"what": "one page_view of a signed-in customer's browser: HTTP API and the events stream",
                              "invocations": dict(sorted(event_inv.items())),
                              "calls": _as_rows(twin, event_calls)},
            "journey_entries": {
                journey: {"what": f"{ENTRIES[journey][0]} entering {journey}, run to its end with no reaction, "
                                  "minus the calls of a tracked event",
                          "invocations": dict(sorted((entry[1] - event[1]).items())),
                          "calls": _as_rows(twin, entry[0] - event[0])}
                for journey, (event, entry) in kept.items()},
            "campaign_batch": _campaign_batch(twin),
        }
    finally:
        if own:
            twin.stop()


def _ensure_model(twin) -> None:
    """The recommender answers from a trained model, as in production (without one it reads only the
    pointer, and the counts would depend on whether an earlier run of the process trained one)."""
    from botocore.exceptions import ClientError

    try:
        twin.client("s3").head_object(Bucket=twin.names["ModelsBucket"], Key="models/current.json")
        return
    except ClientError:
        pass
    from polku.testing.recommend_model import train_on_two_groups

    train_on_two_groups(twin, [f"cost-p{i}" for i in range(6)], "cost-model", dt.datetime(2025, 12, 1, 9, tzinfo=dt.timezone.utc))


CAMPAIGN_BATCH = 10  # recipients in the measured batch


def _campaign_batch(twin) -> dict | None:
    """A campaign's child task: the Send function with one batch of recipients (Helsinki, 10:00
    local), as the Distributed Map hands it; the calls per batch (None while campaigns are not there)."""
    try:
        from polku.campaigns import definition, segments
    except ImportError:
        return None
    from polku import clock
    from polku.data.profiles import ProfileModel
    from polku.twin import iam_agreement, lambda_runtime

    tag = "cc" + uuid.uuid4().hex[:8]
    ids = [f"{tag}-{i:03d}" for i in range(CAMPAIGN_BATCH)]
    for i, cid in enumerate(ids):
        ProfileModel(cid, traits={"email": f"{cid}@example.com", "batch": tag, "first_name": f"N{i}"},
                     consents={"email": {"granted": True}}, time_zone="Europe/Helsinki", locale="en").save()
    seg = segments.parse({"name": f"seg_{tag}", "all": [{"trait": {"name": "batch", "eq": tag}}]})
    at = "2026-04-14T07:00:00Z"
    camp = definition.parse({"name": f"c_{tag}", "segment": seg.name, "template": "spring_newsletter",
                             "channel": "email", "send": {"at": at}})
    event = {"action": "campaign_batch", "Items": [{"customer_id": cid, "variant": "A"} for cid in ids],
             "BatchInput": {"campaign": camp.to_dict(), "run_id": "cost", "send_at": at}}
    previous = clock.set_clock(clock.VirtualClock(clock.parse_iso(at)))
    try:
        with _counting_invocations() as invocations, iam_agreement.recording() as rec:
            result, error = lambda_runtime.invoke(twin.names["SendFunction"], event)
    finally:
        clock.set_clock(previous)
    if error or result.get("sent") != CAMPAIGN_BATCH:
        raise RuntimeError(f"the campaign batch did not send {CAMPAIGN_BATCH} messages: {result}")
    calls: Counter = Counter()
    for call, n in rec.calls.items():
        calls[(call.function, call.action, call.resource)] += n
    return {"what": f"the Send function with one campaign batch of {CAMPAIGN_BATCH} recipients",
            "recipients": CAMPAIGN_BATCH, "invocations": dict(sorted(invocations.items())),
            "calls": _as_rows(twin, calls)}


def load() -> dict:
    return json.loads(CALLS.read_text())


def save(facts: dict) -> None:
    CALLS.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
