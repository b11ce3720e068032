"""Journey tests: real ASL in the twin's interpreter, real journey step handlers, virtual clock.

Each test feeds a timeline (JSON lines of tracking events, as ``polku journeys simulate`` does)
and asserts on the happenings. Customer ids are unique per test (the twin is shared).
"""

from __future__ import annotations

import json
import uuid

import pytest

from polku.journeys.simulate import Simulation, parse_timeline

@pytest.fixture(scope="session")
def journey_twin(twin):
    """The shared twin, with the real handlers of every journey step (Send included)."""
    return twin


class Run:
    def __init__(self, twin, journey: str):
        self.twin = twin
        self.journey = journey
        self.tag = uuid.uuid4().hex[:8]

    def cid(self, name: str, holdout: bool = False) -> str:
        """A customer id unique to this test, inside (holdout=True) or outside the journey's holdout."""
        from polku.journeys.registry import load
        from polku.journeys.runs import in_holdout

        j = load().get(self.journey)
        for i in range(10_000):
            cid = f"{name}-{self.tag}-{i}"
            if j.holdout == 0 or in_holdout(j, cid) == holdout:
                return cid
        raise AssertionError("no customer id found for the holdout wish")

    def __call__(self, lines: list[dict], start=None, until=None) -> list[dict]:
        sim = Simulation(self.journey, twin=self.twin)
        out = sim.run(parse_timeline(json.dumps(line) for line in lines), start, until)
        assert not sim.rejected, sim.rejected
        return out


@pytest.fixture
def run_journey(journey_twin):
    return lambda journey: Run(journey_twin, journey)


def identify(cid: str, ts: str, **traits) -> dict:
    traits = {"email": f"{cid}@example.com", "consents": {"email": True, "sms": True, "push": True}, **traits}
    return {"type": "identify", "customer_id": cid, "ts": ts, "properties": traits}


def identify_line(cid: str, ts: str, anon: str | None = None, **traits) -> dict:
    """An identify line with e-mail consent only, optionally linking an anonymous id."""
    body = {"type": "identify", "customer_id": cid, "ts": ts,
            "properties": {"email": f"{cid}@example.com", "consents": {"email": True}, **traits}}
    if anon:
        body["anonymous_id"] = anon
    return body


def cart_line(ts: str, product: str, **who) -> dict:
    """An add_to_cart line for ``customer_id=`` or ``anonymous_id=``."""
    return {"type": "add_to_cart", "ts": ts, "properties": {"product_id": product, "quantity": 1, "price": 12.5}, **who}


def event(cid: str, type_: str, ts: str, **props) -> dict:
    return {"type": type_, "customer_id": cid, "ts": ts, "properties": props}


def of(happenings: list[dict], customer: str, kind: str | None = None) -> list[dict]:
    return [h for h in happenings if h["customer_id"] == customer and (kind is None or h["kind"] == kind)]


def exits(happenings, customer) -> list[str]:
    return [h["reason"] for h in of(happenings, customer, "exited")]


def messages(happenings, customer) -> list[str]:
    """The states that sent a message (template and stage are in the happening too); an attempt
    deferred for quiet hours is not a message (its retry at send_at is)."""
    return [h["state"] for h in of(happenings, customer, "message") if h.get("status") != "deferred"]


def actions(happenings, customer) -> list[str]:
    return [h["type"] for h in of(happenings, customer, "action")]


def at(happenings, customer, state: str, kind: str = "message"):
    """The virtual time (datetime) of the first happening of ``kind`` in ``state``."""
    from polku.clock import parse_iso

    return parse_iso(next(h["at"] for h in of(happenings, customer, kind) if h.get("state") == state))


def hours(a, b) -> float:
    return (b - a).total_seconds() / 3600


# Five shoppers over abandoned_cart and the scheduled birthday journey, with the corners a
# split or a changed transport could get wrong (an event before its person is identified,
# an anonymous cart, equal timestamps); the simulation tests compare whole runs on it.
SHOPPERS = [
    identify_line("ann", "2026-01-05T09:00:00Z", anon="a-ann", time_zone="Europe/Helsinki"),
    {"type": "page_view", "anonymous_id": "a-ann", "ts": "2026-01-05T08:30:00Z",
     "properties": {"url": "https://shop.example.com/"}},  # before ann is identified
    cart_line("2026-01-05T10:00:00Z", "p1", anonymous_id="a-ann"),  # anonymous, linked to ann
    identify_line("bob", "2026-01-05T09:30:00Z"),
    cart_line("2026-01-05T11:00:00Z", "p2", customer_id="bob"),
    {"type": "purchase", "customer_id": "bob", "ts": "2026-01-06T12:00:00Z",
     "properties": {"order_id": "o-bob", "revenue": 10, "items": [{"product_id": "p2", "quantity": 1, "price": 10}]}},
    identify_line("carl", "2026-01-05T10:00:00Z", time_zone="Europe/Prague"),
    cart_line("2026-01-05T10:05:00Z", "p3", customer_id="carl"),
    identify_line("dora", "2026-01-05T07:00:00Z", birthday="1990-01-06"),
    identify_line("eve", "2026-01-05T11:00:00Z"),
    cart_line("2026-01-05T11:00:00Z", "p1", customer_id="eve"),  # same time as her identify and as bob's cart
]
