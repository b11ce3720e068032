"""`make demo`: the whole story on the embedded local twin, in simulated time.

1. Start the local twin (template.yaml on moto, real handlers in-process).
2. Put a synthetic catalogue behind the Instacart product ids and train the recommender on the
   shoppers' order history before the replay window (published to the twin's S3).
3. Replay the last weeks of Instacart shoppers through the tracking HTTP API on a virtual clock;
   journeys start from the events stream, wait, branch, escalate (offers granted and revoked) and exit.
4. A sales user enrols a handful of customers into the nurture journey with a personal note
   (a SigV4-signed call to the enrolment API).
5. Every e-mail lands in an outbox folder; a report (HTML with charts + JSON) is built from the tables.

Instacart has only completed orders and no dates, names or prices: timestamps come from the order
sequence, the catalogue is synthetic, and every fourth session is cut before checkout so that some
carts are abandoned. Same input, same output: everything runs on a virtual clock from a fixed date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
END = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.timezone.utc)  # a Monday: the demo's "today"
JOURNEYS = ["abandoned_cart", "browse_abandonment", "cross_sell", "nurture"]
SALES_USER = "arn:aws:iam::123456789012:user/sales-anna"
NOTE = "Thanks for meeting me at the store on Friday - here is the guide I promised. - Anna"


def abandoned(order_id: str) -> bool:
    """Every fourth session (by a stable hash of the order) stops at the cart."""
    return int(hashlib.sha256(order_id.encode()).hexdigest(), 16) % 4 == 0


def build_timeline(shoppers: int, weeks: int) -> list[str]:
    """Timeline lines (the `polku journeys simulate` format) with some carts abandoned."""
    from polku.journeys.demo import timeline

    out = []
    for line in timeline(shoppers, weeks, END):
        ev = json.loads(line)
        order = ev.get("properties", {}).get("order_id") or ev.get("event_id", "").split("-")[1]
        if ev["type"] in ("checkout_started", "purchase") and abandoned(str(order)):
            continue
        out.append(line)
    return out


def train_recommender(twin, rows: list[dict], window_start: dt.datetime) -> str:
    """Catalogue + a model trained on orders before the window (users' earlier baskets)."""
    from polku import clock
    from polku.data import catalog
    from polku.recommend.catalog import demo_catalog
    from polku.recommend.interactions import Interactions
    from polku.recommend.model_store import ModelStore
    from polku.recommend.pipeline import run_training
    from polku.settings import get_settings

    products = demo_catalog(sorted({r["product_id"] for r in rows}), "https://shop.example")
    catalog.save_products(products)
    by_user: dict[str, list[dict]] = {}
    for r in rows:
        by_user.setdefault(r["user_id"], []).append(r)
    users, items, baskets, times = [], [], [], []
    for uid, urows in by_user.items():
        last = max(int(r["order_number"]) for r in urows)
        for r in urows:
            if int(r["order_number"]) < last - 2:  # history well before the replayed weeks
                users.append(uid)
                items.append(r["product_id"])
                baskets.append(r["order_id"])
                times.append(float(r["order_number"]))
    inter = Interactions.from_records(users, items, times=times, baskets=baskets)
    store = ModelStore(twin.client("s3"), get_settings().models_bucket)
    outcome = run_training(inter, store, clock.to_iso(window_start), catalog=catalog.all_content(), force=True)
    ev = outcome.manifest.get("evaluation", {})
    return (f"{outcome.manifest.get('item_count')} products, "
            f"{outcome.manifest.get('dimensions')} dimensions, holdout HR@10 {ev.get('hr@10', 'n/a')}")


def engage(emails, api_url: str, share_open: int = 45, share_click: int = 15) -> tuple[int, list[tuple[str, str]]]:
    """Some recipients read their mail the next morning: a stable share open it (the tracking
    pixel is fetched) and a smaller share click a product (the signed click link; the shop's
    front page where the message shows no product). Returns the opens and, per click, the
    customer and the link's destination."""
    import http.client
    import re
    from urllib.parse import urlsplit

    def get(url: str) -> int:
        """One GET, redirects not followed (a click answers 302 to the shop)."""
        url = api_url + url[url.index("/v1/"):]  # the link as the twin's API serves it
        parts = urlsplit(url.replace("&amp;", "&"))
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            # Mail clients load the pixel as an image (Chalice answers binary bodies only to a matching Accept).
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                         headers={"Accept": "image/gif,image/*;q=0.9,*/*;q=0.8"})
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def claims(url: str) -> dict:
        """A signed link's claims (readable; only the MAC is secret)."""
        import base64

        payload = url.rsplit("/", 1)[-1].split(".")[0]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def reader(url: str, subject: str) -> str:
        """Customer and journey from a link's claims, and the subject."""
        c = claims(url)
        return f"{c.get('c')}|{c.get('j')}|{subject}"

    opened, clicked = 0, []
    for email in emails:
        pixels = re.findall(r'src="([^"]+/v1/o/[^"]+)"', email.html)
        clicks = re.findall(r'href="([^"]+/v1/c/[^"]+)"', email.html)
        if not pixels:
            continue
        # Who reads what is a stable function of the message (same every run).
        roll = int(hashlib.sha256(reader(pixels[0], email.subject).encode()).hexdigest(), 16) % 100
        if pixels and roll < share_open:
            status = get(pixels[0])
            if status >= 400:
                raise RuntimeError(f"open pixel answered {status}")
            opened += 1
        if clicks and roll < share_click:
            link, link_claims = next(((c, claims(c)) for c in clicks if "/p/" in claims(c).get("u", "")),
                                     (clicks[0], claims(clicks[0])))
            status = get(link)
            if status >= 400:
                raise RuntimeError(f"click link answered {status}")
            clicked.append((link_claims["c"], link_claims["u"]))
    return opened, clicked


def buy_after_click(clicked: list[tuple[str, str]], post, at: dt.datetime, share: int = 50) -> int:
    """A stable share of the customers who clicked a product buy it within the hour (a purchase
    event the shop's backend reports through the server API, ``post`` being the simulation's; priced
    from the catalogue):
    what the report's revenue after a click counts. Returns the orders placed."""
    from polku import clock
    from polku.recommend.catalog import demo_product

    events = []
    for customer_id, url in dict(clicked).items():  # one order per customer
        if "/p/" not in url or int(hashlib.sha256(f"buy|{customer_id}".encode()).hexdigest(), 16) % 100 >= share:
            continue
        product = demo_product(url.rsplit("/p/", 1)[1])
        price = float(product["price"])
        events.append({"type": "purchase", "customer_id": customer_id, "ts": clock.to_iso(at),
                       "event_id": f"demo-after-click-{customer_id}",
                       "properties": {"order_id": f"after-click-{customer_id}", "revenue": price, "currency": "EUR",
                                      "items": [{"product_id": product["product_id"], "quantity": 1, "price": price}]}})
    from polku.tracking.trust_secrets import server_key_for

    for i in range(0, len(events), 10):  # the shop's backend reports its orders (the server API)
        answer = post("/v1/server/events", {"site_key": "demo-shop", "events": events[i:i + 10]},
                      {"X-Polku-Server-Key": server_key_for("demo-shop")})
        if answer.get("rejected") or answer.get("status", 200) >= 400:
            raise RuntimeError(f"purchase after click refused: {answer}")
    return len(events)


def http_simulation(journeys: list[str], twin):
    """The journeys simulator, feeding each timeline event through the tracking HTTP API."""
    import urllib.error
    import urllib.request

    from polku.journeys.simulate import Simulation

    class HttpSimulation(Simulation):
        def _post(self, path: str, body: dict, headers: dict | None = None) -> dict:
            req = urllib.request.Request(f"{twin.api_url}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    return json.load(resp)
            except urllib.error.HTTPError as exc:
                return json.loads(exc.read() or b"{}") | {"status": exc.code}

        def _feed(self, ev):
            from polku.tracking.trust_secrets import server_key_for

            body = dict(ev.body)
            server = {"X-Polku-Server-Key": server_key_for(self.site_key)}
            if body["type"] == "identify":
                request = {k: body[k] for k in ("event_id", "anonymous_id", "customer_id", "ts") if body.get(k)}
                # the timeline's traits and consents are the shop's own data: its backend sends them (#16)
                answer = self._post("/v1/server/identify", {**request, "traits": body.get("properties") or {},
                                                            "site_key": self.site_key}, server)
                if answer.get("status", 200) >= 400:
                    self.rejected.append({"line": ev.line, "answer": answer})
                return {body["customer_id"]}
            # A browser's events go to the public route; a line naming the customer is the shop's own
            # record of them (the public route takes a customer only from a browser linked to them).
            if body.get("customer_id"):
                answer = self._post("/v1/server/events", {"site_key": self.site_key, "events": [body]}, server)
            else:
                answer = self._post("/v1/events", {"site_key": self.site_key, "events": [body]})
            for r in answer.get("rejected", []):
                self.rejected.append({"line": ev.line, **r})
            return {body["customer_id"]} if body.get("customer_id") else set()

    return HttpSimulation(journeys, twin=twin, site_key="demo-shop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polku.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=40, help="Instacart shoppers to replay (default 40)")
    parser.add_argument("--weeks", type=int, default=3, help="weeks of their sessions to replay (default 3)")
    parser.add_argument("--enrol", type=int, default=5, help="customers the sales user enrols (default 5)")
    parser.add_argument("--out", default=str(REPO / "out" / "demo"), help="outbox and report folder")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.disable(logging.WARNING)
    started = time.monotonic()
    out_dir = Path(args.out)

    from polku import clock
    from polku.journeys.simulate import parse_timeline
    from polku.demo.instacart_data import instacart_rows
    from polku.twin.twin import Twin

    def say(text: str) -> None:
        print(f"[demo] {text}", flush=True)

    real_stdout = sys.stdout
    out_dir.mkdir(parents=True, exist_ok=True)
    handler_log = (out_dir / "handlers.log").open("w")
    sys.stdout = handler_log  # the handlers' logs and metrics go to a file; the story goes to stdout
    import warnings  # the handlers' warnings too (e.g. Powertools' "no application metrics to publish")

    warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: handler_log.write(
        warnings.formatwarning(message, category, filename, lineno, line))
    twin = Twin(REPO / "template.yaml", api_port=0).start()
    try:
        def story(text: str) -> None:
            print(f"[demo] {text}", file=real_stdout, flush=True)

        story(f"local twin up: HTTP API {twin.api_url}, AWS {twin.endpoint_url} ({len(twin.names)} resources "
              "from template.yaml)")
        rows = instacart_rows()
        users = sorted({r["user_id"] for r in rows}, key=lambda u: (len(u), u))[: args.shoppers]
        rows = [r for r in rows if r["user_id"] in set(users)]
        window_start = END - dt.timedelta(weeks=args.weeks)
        story("catalogue: synthetic names, categories and prices for the Instacart product ids")
        story("recommender trained on earlier orders: " + train_recommender(twin, rows, window_start))

        lines = build_timeline(args.shoppers, args.weeks)
        events = parse_timeline(lines)
        kinds = Counter(e.body["type"] for e in events)
        story(f"replaying {len(events)} events of {len(users)} shoppers over {args.weeks} weeks "
              f"({clock.to_iso(window_start)[:10]} .. {clock.to_iso(END)[:10]}) through the tracking API; "
              f"{kinds.get('add_to_cart', 0)} add-to-carts, {kinds.get('purchase', 0)} purchases "
              f"(every 4th session stops at the cart)")
        sim = http_simulation(JOURNEYS, twin)
        happenings = sim.run(events)
        story(f"simulated {len(happenings)} journey happenings; rejected events: {len(sim.rejected)}")

        # A sales user enrols customers after meeting them, with a personal note, at the end of the window.
        from polku.enrollment.twin_access import enroll_and_wait, principal_client

        customers = sorted({e.body["customer_id"] for e in events if e.body.get("customer_id")})[: args.enrol]
        vclock = clock.VirtualClock(END)
        previous = clock.set_clock(vclock)
        try:
            client = principal_client(twin, SALES_USER, ["sales"])
            with vclock.actor():  # hold time until every enrolment has started
                progress = enroll_and_wait(client, "nurture", customers, role="sales", overrides={"intro": NOTE})
            vclock.wait_idle(timeout=600)
        finally:
            clock.set_clock(previous)
        story(f"sales (sales-anna) enrolled {progress.get('started', progress.get('enrolled', len(customers)))} "
              f"customers into nurture with a personal note")

        from polku.messaging.outbox import write_outbox

        emails = write_outbox(twin, out_dir / "outbox")
        story(f"outbox: {len(emails)} e-mails in {out_dir / 'outbox' / 'index.html'}")
        vclock = clock.VirtualClock(END + dt.timedelta(hours=9))
        previous = clock.set_clock(vclock)
        try:
            with vclock.actor():
                opened, clicked = engage(emails, twin.api_url)
                bought = buy_after_click(clicked, sim._post, vclock.now() + dt.timedelta(minutes=40))
            vclock.wait_idle(timeout=600)
        finally:
            clock.set_clock(previous)
        story(f"the next morning {opened} e-mails were opened and {len(clicked)} clicked (pixel and signed links); "
              f"{bought} of the clickers bought the product they clicked within the hour")

        from polku.reporting.build import build_report, compute_figures
        from polku.reporting.figures import summary_lines
        from polku.settings import get_settings

        report = build_report(out_dir / "report", twin.client("dynamodb"), get_settings(),
                              sfn=twin.client("stepfunctions"))
        figures = compute_figures(twin.client("dynamodb"), get_settings())
        story("journeys (from the message log, events and journey state, as the report counts them):")
        for line in summary_lines(figures):
            story(f"  {line}")
        story(f"report: {report}")
    finally:
        twin.stop()
        sys.stdout = real_stdout
        handler_log.close()
    print(f"[demo] done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
