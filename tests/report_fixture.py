"""Deterministic fixture data for the report tests: message log items, tracking events and
journey runs in the shapes their writers use (docs/messages.md, polku.data.*)."""

from __future__ import annotations

import datetime as dt
import random

BASE = dt.datetime(2024, 3, 4, 6, 0, tzinfo=dt.timezone.utc)  # far from any other test's data


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def build(run: str, customers_per_journey: int = 40) -> dict:
    """Items for two journeys (``rpt_<run>_welcome`` A/B + holdout, ``rpt_<run>_cross`` A) and one-off mail."""
    rnd = random.Random(run)
    journeys = {f"rpt_{run}_welcome": ["A", "B"], f"rpt_{run}_cross": ["A"]}
    messages, events, runs = [], [], []
    enrollment_id = f"{run}enr".ljust(20, "0")[:20]
    for j, variants in journeys.items():
        for i in range(customers_per_journey):
            cid = f"rpt-{run}-{j[-5:]}-{i:03d}"
            entered = BASE + dt.timedelta(hours=7 * i + rnd.randint(0, 5))
            holdout = j.endswith("welcome") and i % 8 == 7
            variant = "holdout" if holdout else variants[i % len(variants)]
            trigger = enrollment_id if i % 10 == 3 else (f"{j}:2024-03-04T09" if i % 10 == 4 else f"ev-{cid}")
            status, reason = ("holdout", None) if holdout else [("exited", "goal"), ("exited", "completed"),
                                                               ("running", None), ("exited", "stopped")][i % 4]
            runs.append({"customer_id": cid, "sk": f"run#{j}", "journey": j, "entered_at": iso(entered),
                         "status": status, "variant": variant, "trigger_event_id": trigger,
                         **({"exit_reason": reason} if reason else {})})
            purchase_at = None
            if not holdout:
                for step_no, step in enumerate(("SendFirst", "SendFollowUp")):
                    if step_no == 1 and i % 3 == 0:
                        continue  # a third leave before the second message
                    sent_at = entered + dt.timedelta(hours=1 + 24 * step_no)
                    st = ["sent", "delivered", "delivered", "bounced", "skipped", "delivered"][(i + step_no) % 6]
                    channel = "sms" if i % 5 == 0 else "email"
                    mid = f"m_{run}_{cid}_{step}"
                    item = {"message_id": mid, "customer_id": cid, "journey": j, "step": step, "variant": variant,
                            "channel": channel, "status": st, "message_type": "journey", "created_at": iso(sent_at),
                            "execution_id": f"arn:exec:{cid}", "feedback": {}}
                    if st != "skipped":
                        item["sent_at"] = iso(sent_at)
                    if st in ("delivered", "sent") and rnd.random() < 0.6:
                        item["feedback"]["open_at"] = iso(sent_at + dt.timedelta(minutes=30))
                        if rnd.random() < 0.5:
                            click = sent_at + dt.timedelta(minutes=40)
                            item["feedback"]["click_at"] = iso(click)
                            if step_no == 0 and rnd.random() < 0.6:
                                purchase_at = click + dt.timedelta(days=rnd.choice([1, 2, 5, 9]))
                    elif st == "delivered" and rnd.random() < 0.3:
                        # an open known only from the tracking event (the pixel)
                        events.append(_event(f"open-{mid}", "email_open", cid, sent_at + dt.timedelta(hours=2),
                                             {"message_id": mid, "channel": channel}))
                    if j.endswith("cross") and step_no == 0:
                        item["recommended_products"] = [str(100 + i), str(200 + i), str(300 + i)]
                        item["recommend_strategy"] = f"also_bought_{run}"
                    messages.append(item)
            elif rnd.random() < 0.4:
                purchase_at = entered + dt.timedelta(days=rnd.choice([2, 4, 10]))
            if purchase_at is not None:
                events.append(_event(f"buy-{cid}", "purchase", cid, purchase_at,
                                     {"order_id": f"o-{cid}", "revenue": round(rnd.uniform(10, 90), 2), "items": []}))
    for k in range(12):  # one-off newsletters
        t = BASE + dt.timedelta(days=k % 6, hours=10)
        messages.append({"message_id": f"m_{run}_news_{k}", "customer_id": f"rpt-{run}-news-{k}", "journey": "one-off",
                         "step": "newsletter", "channel": "email", "status": "delivered", "message_type": "newsletter",
                         "created_at": iso(t), "sent_at": iso(t), "feedback": {}})
    return {"messages": messages, "events": events, "runs": runs, "journeys": list(journeys),
            "enrollment_id": enrollment_id}


def _event(eid: str, etype: str, cid: str, when: dt.datetime, props: dict) -> dict:
    return {"event_id": eid, "type": etype, "customer_id": cid, "subject": f"c#{cid}", "ts": f"{iso(when)}#{eid}",
            "client_ts": iso(when), "received_at": iso(when), "site_key": "demo-shop", "properties": props}
