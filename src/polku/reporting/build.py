"""Build the report (use case): read the tables, compute the figures, write the page."""

from __future__ import annotations

from pathlib import Path

from polku import clock
from polku.reporting import figures, html_page, records, table_scan
from polku.settings import Settings


def collect(dynamodb, settings: Settings) -> tuple[list, list, list, set[str]]:
    messages = [records.message_from_item(i) for i in table_scan.scan(dynamodb, settings.messages_table)]
    events = [records.event_from_item(i) for i in table_scan.scan(dynamodb, settings.events_table)]
    runs = [r for r in (records.run_from_item(i) for i in table_scan.scan(dynamodb, settings.journey_state_table)) if r]
    enrollment_ids = {
        i["enrollment_id"]
        for i in table_scan.scan(dynamodb, settings.enrollments_table, "pk, sk, enrollment_id")
        if i.get("sk") == "meta" and i.get("enrollment_id")
    }
    return messages, events, runs, enrollment_ids


def compute_figures(dynamodb, settings: Settings, attribution_days: int = 7) -> dict:
    messages, events, runs, enrollment_ids = collect(dynamodb, settings)
    return figures.compute(messages, events, runs, enrollment_ids, attribution_days=attribution_days)


def build_report(out_dir: Path | str, dynamodb, settings: Settings, attribution_days: int = 7, sfn=None) -> Path:
    """Write index.html, plotly.min.js and report.json into ``out_dir``; returns the page's path.
    With ``sfn`` (a Step Functions client) the page also draws every journey's graph with its
    counts (who passed each state, stands there now, left; each Send's open and click rates)."""
    messages, events, runs, enrollment_ids = collect(dynamodb, settings)
    fig = figures.compute(messages, events, runs, enrollment_ids, attribution_days=attribution_days)
    pictures = []
    if sfn is not None:
        from polku.reporting.journey_pictures import journey_pictures

        # figures.compute attached each message's opens and clicks from the events
        pictures = journey_pictures(sfn, settings.state_machine_prefix, messages, runs)
    return html_page.write(Path(out_dir), fig, clock.now_iso(), pictures)
