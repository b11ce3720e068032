"""Plotly figures from the computed figures (one function per chart; no data access)."""

from __future__ import annotations

import plotly.graph_objects as go

LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=50, b=50), height=380,
              legend=dict(orientation="h", y=-0.2), font=dict(family="system-ui, sans-serif", size=12))


def _fig(title: str, traces: list, **layout) -> go.Figure:
    fig = go.Figure(traces)
    fig.update_layout(title=title, **{**LAYOUT, **layout})
    return fig


def funnel(journey: str, rows: list[dict]) -> go.Figure:
    labels = [r["step"] for r in rows]
    return _fig(f"Funnel: {journey}", [go.Funnel(y=labels, x=[r["customers"] for r in rows],
                                                 textinfo="value+percent initial", name="customers")],
                height=max(260, 70 * len(rows) + 80))


def stacked_by_reason(title: str, data: dict[str, dict]) -> go.Figure:
    journeys = list(data)
    reasons = sorted({r for v in data.values() for r in v})
    traces = [go.Bar(name=r, x=journeys, y=[data[j].get(r, 0) for j in journeys]) for r in reasons]
    return _fig(title, traces, barmode="stack", yaxis_title="runs")


def channel_status(data: dict[str, dict]) -> go.Figure:
    channels = list(data)
    statuses = sorted({s for v in data.values() for s in v})
    traces = [go.Bar(name=s, x=channels, y=[data[c].get(s, 0) for c in channels]) for s in statuses]
    return _fig("Messages by channel and status", traces, barmode="stack", yaxis_title="messages")


def rates(rows: list[dict]) -> go.Figure:
    x = [f"{r['journey']} / {r['variant']}" for r in rows]
    traces = [
        go.Bar(name=label, x=x, y=[(r[key] or 0) * 100 for r in rows])
        for key, label in (("open_rate", "open rate"), ("click_rate", "click rate"), ("conversion_rate", "conversion rate"))
    ]
    return _fig("Open, click and conversion rate by journey and variant (%)", traces, barmode="group",
                yaxis_title="%", xaxis_tickangle=-30)


def holdout_lift(rows: list[dict]) -> go.Figure:
    x = [r["journey"] for r in rows]
    traces = [
        go.Bar(name="messaged", x=x, y=[(r["treated_conversion_rate"] or 0) * 100 for r in rows]),
        go.Bar(name="holdout", x=x, y=[(r["holdout_conversion_rate"] or 0) * 100 for r in rows]),
    ]
    return _fig("Conversion: messaged vs holdout (%)", traces, barmode="group", yaxis_title="%")


def revenue(data: dict) -> go.Figure:
    x = list(data["by_journey"])
    return _fig(f"Revenue from purchases within {data['days']} days after a click",
                [go.Bar(x=x, y=[data["by_journey"][k] for k in x], name="revenue",
                        text=[data["orders_by_journey"].get(k, 0) for k in x], texttemplate="%{text} orders")],
                yaxis_title="revenue")


def volume(rows: list[dict]) -> go.Figure:
    days = [r["day"] for r in rows]
    traces = [go.Scatter(x=days, y=[r["journey"] for r in rows], name="journey", mode="lines+markers", stackgroup="v"),
              go.Scatter(x=days, y=[r["one_off"] for r in rows], name="one-off", mode="lines+markers", stackgroup="v")]
    return _fig("Messages sent per day: journeys vs one-off", traces, yaxis_title="messages")


def send_hours(data: dict[str, list[int]]) -> go.Figure:
    traces = [go.Bar(name=c, x=list(range(24)), y=v) for c, v in data.items()]
    return _fig("Send hour (UTC)", traces, barmode="stack", xaxis_title="hour", yaxis_title="messages",
                xaxis=dict(dtick=2))


def recommendations(data: dict) -> go.Figure:
    x = list(data["by_strategy"])
    return _fig("Recommendation click-through by strategy (%)",
                [go.Bar(x=x, y=[(data["by_strategy"][s]["ctr"] or 0) * 100 for s in x], name="CTR",
                        text=[f"{data['by_strategy'][s]['clicked']}/{data['by_strategy'][s]['messages']}" for s in x])],
                yaxis_title="%")


def all_charts(fig: dict) -> list[tuple[str, str, go.Figure]]:
    """(section, chart id, figure) in page order."""
    out: list[tuple[str, str, go.Figure]] = []
    for j, rows in fig["funnel"].items():
        out.append(("Journey funnels", f"funnel-{j}", funnel(j, rows)))
    out.append(("Entries and exits", "entries", stacked_by_reason("Journey entries by reason", fig["entries"])))
    out.append(("Entries and exits", "exits", stacked_by_reason("Journey exits by reason", fig["exits"])))
    out.append(("Messages", "channel-status", channel_status(fig["messages_by_channel_status"])))
    out.append(("Messages", "volume", volume(fig["volume_by_day"])))
    out.append(("Messages", "send-hours", send_hours(fig["send_hours"])))
    out.append(("Engagement and conversion", "rates", rates(fig["rates"])))
    out.append(("Engagement and conversion", "holdout-lift", holdout_lift(fig["holdout_lift"])))
    out.append(("Engagement and conversion", "revenue", revenue(fig["revenue_after_click"])))
    out.append(("Recommendations", "recommendations", recommendations(fig["recommendations"])))
    return out
