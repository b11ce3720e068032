"""Outcome acceptance: every shipped journey, run for personas as a marketer would try it.

The harness is the one of ``tests/statemachines`` (real ASL in the twin's interpreter, real
handlers, virtual clock, one shared twin); this folder adds personas and the marketer's view of a
run (``outcomes.py``): which messages, on which channel, at what local time, with which content,
which ERP events, how the run ended.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest

from tests.acceptance.outcomes import BusListener, Deliveries, Outcome, outcomes
from tests.statemachines.conftest import Run, journey_twin  # noqa: F401 - the shared twin fixture

HELSINKI = "Europe/Helsinki"
NEW_YORK = "America/New_York"


@dataclass
class Person:
    cid: str
    zone: str
    first_name: str
    phone: str | None = None
    push_endpoint: str | None = None
    traits: dict | None = None

    def identify(self, ts: str) -> dict:
        """The identify line that makes this person known (e-mail always; SMS/push if they have them)."""
        return {"type": "identify", "customer_id": self.cid, "ts": ts, "properties": self.traits}

    def event(self, type_: str, ts: str, **props) -> dict:
        return {"type": type_, "customer_id": self.cid, "ts": ts, "properties": props}


class Journey:
    """One journey under test: make personas, run a timeline, read the outcome per persona."""

    def __init__(self, run, twin, deliveries: Deliveries, buses: BusListener, push_app: str):
        self.run = run  # tests.statemachines.conftest.Run
        self.name = run.journey
        self.twin = twin
        self.deliveries = deliveries
        self.buses = buses
        self.push_app = push_app
        self.people: dict[str, Person] = {}

    def person(self, label: str, *, zone: str = HELSINKI, first_name: str = "Aino", prefers: str | None = None,
               sms: bool = False, push: bool = False, variant: str | None = None, holdout: bool = False,
               **traits) -> Person:
        """A customer outside the holdout (inside it with ``holdout=True``; of the given A/B variant if
        asked), with e-mail, and a phone or the app (push) when asked; ``prefers`` is their preferred
        channel."""
        from polku.journeys.registry import load
        from polku.journeys.runs import in_holdout
        from polku.journeys.variants import assign

        j = load().get(self.name)
        for i in range(10_000):
            cid = f"{label}-{self.run.tag}-{i}"
            if (j.holdout and in_holdout(j, cid)) != holdout:
                continue
            if variant is not None and assign(cid, self.name, j.split) != variant:
                continue
            break
        else:
            raise AssertionError(f"no customer id for variant {variant}")
        digits = str(int(hashlib.sha256(cid.encode()).hexdigest(), 16))[-7:]
        phone = (("+1212" if zone == NEW_YORK else "+35840") + digits) if (sms or prefers == "sms") else None
        endpoint = self._push_endpoint(cid) if (push or prefers == "push") else None
        consents = {"email": True, "sms": bool(phone), "push": bool(endpoint)}
        props = {"email": f"{cid}@example.com", "first_name": first_name, "time_zone": zone, "locale": "en",
                 "consents": consents, **traits}
        if phone:
            props["phone"] = phone
        if endpoint:
            props["push_endpoint"] = endpoint
        if prefers:
            props["preferred_channel"] = prefers
        p = Person(cid, zone, first_name, phone, endpoint, props)
        self.people[cid] = p
        return p

    def _push_endpoint(self, cid: str) -> str:
        sns = self.twin.client("sns")
        return sns.create_platform_endpoint(PlatformApplicationArn=self.push_app, Token=f"token-{cid}")["EndpointArn"]

    def __call__(self, lines: list[dict], start=None, until=None) -> dict[str, Outcome]:
        from polku.clock import parse_iso

        happenings = self.run(lines, parse_iso(start) if isinstance(start, str) else start,
                              parse_iso(until) if isinstance(until, str) else until)
        self.happenings = happenings
        return outcomes(happenings, self.people, self.twin, self.deliveries, self.buses)

    def cast(self, people: dict[str, Person], lines: list[dict], start=None, until=None) -> "Cast":
        """Run one timeline for a named cast; the result maps each label to its :class:`Outcome`."""
        return Cast(self, people, self(lines, start, until))


class Cast(dict):
    """label -> :class:`Outcome` of one run, with the people and the simulate lines behind it."""

    def __init__(self, journey: Journey, people: dict[str, Person], out: dict[str, Outcome]):
        super().__init__({label: out[p.cid] for label, p in people.items()})
        self.journey = journey
        self.people = people
        self.happenings = journey.happenings

    @property
    def first_names(self) -> dict[str, str]:
        return {p.cid: p.first_name for p in self.people.values()}


@pytest.fixture(scope="session")
def deliveries(journey_twin):  # noqa: F811
    return Deliveries(journey_twin)


@pytest.fixture(scope="session")
def buses(journey_twin):  # noqa: F811
    return BusListener(journey_twin)


@pytest.fixture(scope="session")
def push_app(journey_twin):  # noqa: F811
    sns = journey_twin.client("sns")
    return sns.create_platform_application(Name="acceptance-app", Platform="GCM",
                                           Attributes={"PlatformCredential": "acceptance"})["PlatformApplicationArn"]


@pytest.fixture(scope="session")
def journey(journey_twin, deliveries, buses, push_app):  # noqa: F811
    """``journey("abandoned_cart")`` -> a :class:`Journey` for that journey (fresh customer ids).

    Session-scoped so that a test module can run its cast once (a module-scoped fixture) and
    assert each persona's outcome in a test of its own."""
    return lambda name: Journey(Run(journey_twin, name), journey_twin, deliveries, buses, push_app)


@pytest.fixture(scope="session")
def catalogue(journey_twin):  # noqa: F811
    """Put products in the twin's catalogue: ``catalogue(name=price, ...)`` -> {name: product_id}."""
    import uuid

    ddb = journey_twin.client("dynamodb")
    table = journey_twin.names["CatalogTable"]
    tag = uuid.uuid4().hex[:6]

    def add(products: dict[str, float], category: str = "pantry") -> dict[str, str]:
        ids = {}
        for i, (name, price) in enumerate(products.items()):
            pid = f"sku-{tag}-{i}"
            ddb.put_item(TableName=table, Item={
                "product_id": {"S": pid}, "category": {"S": category}, "name": {"S": name},
                "price": {"N": json.dumps(price)}, "available": {"BOOL": True}, "currency": {"S": "EUR"},
                "url": {"S": f"https://shop.example.com/p/{pid}"}})
            ids[name] = pid
        return ids

    return add
