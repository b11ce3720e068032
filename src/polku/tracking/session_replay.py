"""Post replayed sessions (e.g. :mod:`instacart_sessions`) through the tracking HTTP API.

Each session goes in order: the events before its identify, the identify, the rest,
in batches of at most 100. Uses only the standard library (the demo and the CLI
can call it against the local twin or a deployed stack).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Iterable

from polku.tracking.event_schema import MAX_BATCH_EVENTS


@dataclass
class ReplayReport:
    sessions: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)
    identified: int = 0


def _post(url: str, body: dict, site_key: str) -> tuple[int, dict]:
    data = json.dumps({**body, "site_key": site_key}).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def replay(api_url: str, sessions: Iterable, site_key: str, token_for=None) -> ReplayReport:
    """``api_url`` is the API base (``.../<stage>`` on AWS, the twin's URL locally). Each identify
    carries an identity token from ``token_for(customer_id)``; by default minted with the stack's
    identity secret (IDENTITY_SECRET_ARN), as the shop's backend would."""
    base = api_url.rstrip("/")
    if token_for is None:
        from polku.settings import get_settings

        if get_settings().identity_secret_arn:
            from polku.tracking.trust_secrets import mint_for

            token_for = lambda customer_id: mint_for(site_key, customer_id)  # noqa: E731
    report = ReplayReport()

    def send(events: list[dict]) -> None:
        for i in range(0, len(events), MAX_BATCH_EVENTS):
            status, out = _post(f"{base}/v1/events", {"events": events[i:i + MAX_BATCH_EVENTS]}, site_key)
            if status >= 500:
                raise RuntimeError(f"POST /v1/events answered {status}: {out}")
            report.accepted += len(out.get("accepted", []))
            report.duplicates += len(out.get("duplicates", []))
            report.rejected.extend(out.get("rejected", []))

    for s in sessions:
        report.sessions += 1
        send(s.events[: s.identify_before] if s.identify else s.events)
        if s.identify:
            body = dict(s.identify)
            if token_for is not None:
                body["identity_token"] = token_for(body["customer_id"])
            status, out = _post(f"{base}/v1/identify", body, site_key)
            if status != 200:
                raise RuntimeError(f"POST /v1/identify answered {status}: {out}")
            report.identified += 1
            send(s.events[s.identify_before:])
    return report
