"""Every figure of the report, computed from records (pure; JSON-ready output).

Definitions (also in docs/reporting.md):

* sent — a logged message whose status is one of ``records.SENT`` (sent, delivered, bounced, complained);
* opened / clicked — the message has ``opened_at`` / ``clicked_at``, or an
  ``email_open`` / ``email_click`` event names its ``message_id`` (a click implies an open);
* converted — the customer made a purchase within ``attribution_days`` after the
  first message of that journey (holdout: after entering the journey);
* holdout lift — conversion rate of messaged customers over that of the holdout, minus 1;
* revenue after click — each purchase is attributed to the customer's latest click
  in the ``attribution_days`` before it (once, never to two clicks);
* one-off volume — messages of no journey (newsletters, transactional, campaigns), per day and month
  beside journey volume; ``campaign`` counts the campaigns' share of it;
* campaigns — per campaign and variant: sent, opened, clicked, customers who bought within
  ``attribution_days`` after their message; the holdout's conversion after the run's planned send
  time and the lift, as for journeys.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict

from polku.reporting.records import CAMPAIGN_PREFIX, CLICK_EVENTS, OPEN_EVENTS, PURCHASE_EVENTS, Event, Message, Run

ONE_OFF = "one-off"


def _t(iso: str | None) -> dt.datetime | None:
    if not iso:
        return None
    try:
        value = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def attach_engagement(messages: list[Message], events: list[Event]) -> None:
    """Fill opened_at / clicked_at from open and click events that name a message."""
    by_id = {m.message_id: m for m in messages}
    for e in events:
        mid = e.properties.get("message_id") if isinstance(e.properties, dict) else None
        m = by_id.get(str(mid)) if mid is not None else None
        if m is None:
            continue
        if e.type in OPEN_EVENTS and (m.opened_at is None or e.ts < m.opened_at):
            m.opened_at = e.ts
        if e.type in CLICK_EVENTS and (m.clicked_at is None or e.ts < m.clicked_at):
            m.clicked_at = e.ts


def _purchases(events: list[Event]) -> dict[str, list[tuple[dt.datetime, float, str]]]:
    out: dict[str, list] = defaultdict(list)
    for e in events:
        if e.type in PURCHASE_EVENTS and e.customer_id:
            when = _t(e.ts)
            if when is None:
                continue
            props = e.properties if isinstance(e.properties, dict) else {}
            revenue = props.get("revenue", props.get("total", props.get("value", 0))) or 0
            out[e.customer_id].append((when, float(revenue), e.event_id))
    for v in out.values():
        v.sort()
    return out


def _bought_within(purchases: list, start: dt.datetime | None, days: int) -> bool:
    if start is None or not purchases:
        return False
    end = start + dt.timedelta(days=days)
    i = bisect.bisect_right([p[0] for p in purchases], start)
    return i < len(purchases) and purchases[i][0] <= end


def entry_reason(run: Run, enrollment_ids: set[str]) -> str:
    if run.status == "holdout":
        return "holdout"
    tid = run.trigger_event_id or ""
    if tid in enrollment_ids:
        return "enrollment"
    if ":" in tid and tid.split(":", 1)[0] in (run.journey, run.journey.replace("-", "_")):
        return "schedule"
    return "event"


def compute(messages: list[Message], events: list[Event], runs: list[Run], enrollment_ids: set[str] | None = None,
            attribution_days: int = 7) -> dict:
    enrollment_ids = enrollment_ids or set()
    attach_engagement(messages, events)
    purchases = _purchases(events)
    campaign_holdout = [r for r in runs if r.journey.startswith(CAMPAIGN_PREFIX)]
    runs = [r for r in runs if not r.journey.startswith(CAMPAIGN_PREFIX)]
    journey_msgs = [m for m in messages if m.journey]
    journeys = sorted({m.journey for m in journey_msgs} | {r.journey for r in runs})
    run_variant = {(r.customer_id, r.journey): r.variant for r in runs}

    # -- funnel per journey step ------------------------------------------------
    funnel: dict[str, list[dict]] = {}
    for j in journeys:
        entered = {r.customer_id for r in runs if r.journey == j and r.status != "holdout"}
        msgs = sorted((m for m in journey_msgs if m.journey == j), key=lambda m: m.created_at)
        steps: list[str] = []
        for m in msgs:
            if m.step not in steps:
                steps.append(m.step)
        rows = [{"step": "entered", "customers": len(entered)}]
        for s in steps:
            at = [m for m in msgs if m.step == s]
            rows.append({
                "step": s,
                "customers": len({m.customer_id for m in at if m.sent}),
                "opened": len({m.customer_id for m in at if m.sent and m.opened}),
                "clicked": len({m.customer_id for m in at if m.sent and m.clicked}),
            })
        funnel[j] = rows

    # -- entries and exits by reason -----------------------------------------------
    entries: dict[str, dict] = {}
    exits: dict[str, dict] = {}
    for j in journeys:
        js = [r for r in runs if r.journey == j]
        entries[j] = dict(sorted(Counter(entry_reason(r, enrollment_ids) for r in js).items()))
        exits[j] = dict(sorted(Counter(
            (r.exit_reason or "exited") if r.status == "exited" else ("in progress" if r.status == "running" else r.status)
            for r in js if r.status != "holdout"
        ).items()))

    # -- messages by channel and status -----------------------------------------------
    by_channel: dict[str, dict] = defaultdict(Counter)
    for m in messages:
        by_channel[m.channel][m.status] += 1
    by_channel_status = {c: dict(sorted(v.items())) for c, v in sorted(by_channel.items())}

    # -- rates per journey and variant; holdout lift -------------------------------------
    rates = []
    lift = []
    for j in journeys:
        first_msg: dict[str, Message] = {}
        for m in sorted((m for m in journey_msgs if m.journey == j and m.sent), key=lambda m: m.sent_at or ""):
            first_msg.setdefault(m.customer_id, m)
        variants: dict[str, set[str]] = defaultdict(set)
        for cid, m in first_msg.items():
            variants[m.variant or run_variant.get((cid, j)) or "A"].add(cid)
        treated_conv = treated_n = 0
        for v in sorted(variants):
            cids = variants[v]
            vm = [m for m in journey_msgs if m.journey == j and m.sent and m.customer_id in cids]
            sent = len(vm)
            opened = sum(1 for m in vm if m.opened)
            clicked = sum(1 for m in vm if m.clicked)
            converted = sum(1 for c in cids if _bought_within(purchases.get(c, []), _t(first_msg[c].sent_at),
                                                               attribution_days))
            treated_conv += converted
            treated_n += len(cids)
            rates.append({
                "journey": j, "variant": v, "customers": len(cids), "sent": sent, "opened": opened,
                "clicked": clicked, "converted": converted, "open_rate": _rate(opened, sent),
                "click_rate": _rate(clicked, sent), "conversion_rate": _rate(converted, len(cids)),
            })
        held = [r for r in runs if r.journey == j and r.status == "holdout"]
        if held:
            hconv = sum(1 for r in held if _bought_within(purchases.get(r.customer_id, []), _t(r.entered_at),
                                                          attribution_days))
            t_rate, h_rate = _rate(treated_conv, treated_n), _rate(hconv, len(held))
            rates.append({"journey": j, "variant": "holdout", "customers": len(held), "sent": 0, "opened": 0,
                          "clicked": 0, "converted": hconv, "open_rate": None, "click_rate": None,
                          "conversion_rate": h_rate})
            lift.append({"journey": j, "treated_customers": treated_n, "treated_conversion_rate": t_rate,
                         "holdout_customers": len(held), "holdout_conversion_rate": h_rate,
                         "lift": round(t_rate / h_rate - 1, 4) if t_rate is not None and h_rate else None})

    # -- revenue from purchases within N days after a click ----------------------------------
    clicks: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for m in messages:
        when = _t(m.clicked_at)
        if when is not None:
            clicks[m.customer_id].append((when, m.journey or ONE_OFF))
    revenue_by_journey: Counter = Counter()
    orders_by_journey: Counter = Counter()
    for cid, plist in purchases.items():
        cl = sorted(clicks.get(cid, []))
        times = [c[0] for c in cl]
        for when, revenue, _ in plist:
            i = bisect.bisect_right(times, when) - 1  # latest click at or before the purchase
            if i >= 0 and when - times[i] <= dt.timedelta(days=attribution_days):
                revenue_by_journey[cl[i][1]] += revenue
                orders_by_journey[cl[i][1]] += 1
    revenue = {
        "days": attribution_days,
        "by_journey": {k: round(v, 2) for k, v in sorted(revenue_by_journey.items())},
        "orders_by_journey": dict(sorted(orders_by_journey.items())),
        "total": round(sum(revenue_by_journey.values()), 2),
        "orders": sum(orders_by_journey.values()),
    }

    # -- one-off vs journey volume over time; send hours ----------------------------------------
    per_day: dict[str, Counter] = defaultdict(Counter)
    per_month: dict[str, Counter] = defaultdict(Counter)
    hours: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for m in messages:
        if not m.sent:
            continue
        when = _t(m.sent_at)
        if when is None:
            continue
        when = when.astimezone(dt.timezone.utc)
        for bucket in (per_day[when.date().isoformat()], per_month[when.strftime("%Y-%m")]):
            bucket["journey" if m.journey else ONE_OFF] += 1
            if m.campaign:
                bucket["campaign"] += 1
        hours[m.channel][when.hour] += 1
    # One-off volume includes the campaigns' sends ("campaign" says how many of it they were).
    volume = [{"day": d, "journey": c["journey"], "one_off": c[ONE_OFF], "campaign": c["campaign"]}
              for d, c in sorted(per_day.items())]
    volume_month = [{"month": d, "journey": c["journey"], "one_off": c[ONE_OFF], "campaign": c["campaign"]}
                    for d, c in sorted(per_month.items())]
    campaigns = campaign_figures(messages, campaign_holdout, purchases, attribution_days)

    # -- recommendation click-through -----------------------------------------------------------
    with_recs = [m for m in messages if m.sent and m.recommendations]
    by_strategy: dict[str, dict] = {}
    for s in sorted({m.recommendation_strategy or "unknown" for m in with_recs}):
        ms = [m for m in with_recs if (m.recommendation_strategy or "unknown") == s]
        clicked = sum(1 for m in ms if m.clicked)
        by_strategy[s] = {"messages": len(ms), "items_shown": sum(len(m.recommendations) for m in ms),
                          "clicked": clicked, "ctr": _rate(clicked, len(ms))}
    rec_clicked = sum(1 for m in with_recs if m.clicked)
    recommendations = {
        "messages": len(with_recs),
        "items_shown": sum(len(m.recommendations) for m in with_recs),
        "clicked": rec_clicked,
        "ctr": _rate(rec_clicked, len(with_recs)),
        "by_strategy": by_strategy,
    }

    sent_total = sum(1 for m in messages if m.sent)
    return {
        "attribution_days": attribution_days,
        "totals": {
            "messages": len(messages),
            "sent": sent_total,
            "opened": sum(1 for m in messages if m.sent and m.opened),
            "clicked": sum(1 for m in messages if m.sent and m.clicked),
            "journey_messages": sum(1 for m in messages if m.journey),
            "one_off_messages": sum(1 for m in messages if not m.journey),
            "campaign_messages": sum(1 for m in messages if m.campaign),
            "events": len(events),
            "purchases": sum(len(v) for v in purchases.values()),
            "runs": len(runs),
            "enrollments": len(enrollment_ids),
        },
        "journeys": journeys,
        "funnel": funnel,
        "entries": entries,
        "exits": exits,
        "messages_by_channel_status": by_channel_status,
        "rates": rates,
        "holdout_lift": lift,
        "revenue_after_click": revenue,
        "volume_by_day": volume,
        "volume_by_month": volume_month,
        "campaigns": campaigns,
        "send_hours": dict(sorted(hours.items())),
        "recommendations": recommendations,
    }


def campaign_figures(messages: list[Message], holdout: list[Run], purchases: dict, attribution_days: int) -> list[dict]:
    """Per campaign (all its runs): messages sent, opened, clicked, customers who bought within
    ``attribution_days`` after their message, per variant and in all; the holdout's conversion after
    the run's planned send time, and the lift (messaged conversion rate over the holdout's, minus 1)."""
    out = []
    names = sorted({m.campaign for m in messages if m.campaign} | {r.journey[len(CAMPAIGN_PREFIX):] for r in holdout})
    for name in names:
        sent = sorted((m for m in messages if m.campaign == name and m.sent), key=lambda m: m.sent_at or "")
        first: dict[str, Message] = {}
        for m in sent:
            first.setdefault(m.customer_id, m)

        def rates(ms: list[Message], customers: set[str]) -> dict:
            opened = sum(1 for m in ms if m.opened)
            clicked = sum(1 for m in ms if m.clicked)
            converted = sum(1 for c in customers if _bought_within(purchases.get(c, []), _t(first[c].sent_at),
                                                                   attribution_days))
            return {"customers": len(customers), "sent": len(ms), "opened": opened, "clicked": clicked,
                    "converted": converted, "open_rate": _rate(opened, len(ms)), "click_rate": _rate(clicked, len(ms)),
                    "conversion_rate": _rate(converted, len(customers))}

        row = {"campaign": name, **rates(sent, set(first))}
        row["variants"] = {v: rates([m for m in sent if (m.variant or "A") == v],
                                    {c for c, m in first.items() if (m.variant or "A") == v})
                           for v in sorted({m.variant or "A" for m in sent})}
        held = [r for r in holdout if r.journey == CAMPAIGN_PREFIX + name and r.status == "holdout"]
        hconv = sum(1 for r in held if _bought_within(purchases.get(r.customer_id, []), _t(r.entered_at), attribution_days))
        row["holdout_customers"] = len(held)
        row["holdout_converted"] = hconv
        row["holdout_conversion_rate"] = _rate(hconv, len(held))
        t_rate, h_rate = row["conversion_rate"], row["holdout_conversion_rate"]
        row["lift"] = round(t_rate / h_rate - 1, 4) if t_rate is not None and h_rate else None
        out.append(row)
    return out


def summary_lines(fig: dict) -> list[str]:
    """One line per journey (for the CLI and the demo's last lines)."""
    lines = []
    for j in fig["journeys"]:
        entered = fig["funnel"][j][0]["customers"] if fig["funnel"].get(j) else 0
        rows = [r for r in fig["rates"] if r["journey"] == j and r["variant"] != "holdout"]
        sent = sum(r["sent"] for r in rows)
        opened = sum(r["opened"] for r in rows)
        clicked = sum(r["clicked"] for r in rows)
        converted = sum(r["converted"] for r in rows)
        customers = sum(r["customers"] for r in rows)
        exits = ", ".join(f"{k} {v}" for k, v in fig["exits"].get(j, {}).items()) or "-"
        pct = lambda n, d: f"{100 * n / d:.0f}%" if d else "-"  # noqa: E731
        revenue = fig["revenue_after_click"]["by_journey"].get(j, 0)
        lines.append(f"{j}: entered {entered}, messages sent {sent}, opened {pct(opened, sent)}, clicked "
                     f"{pct(clicked, sent)}, converted {pct(converted, customers)}, revenue after click "
                     f"{revenue:,.2f}; exits: {exits}")
    return lines
