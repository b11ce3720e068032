"""The demo outbox: the e-mails (and SMS) the twin's SES/SNS accepted, written to a
folder you can open in a browser: one HTML file per e-mail plus ``index.html``.

    from polku.messaging.outbox import write_outbox
    write_outbox(twin, "out/outbox")            # a running Twin
    write_outbox(list_of_raw_mime, "out/outbox") # or raw messages (str/bytes)

Links in the e-mails point at the deployed API base URL; pass ``link_base`` (the twin's
``api_url``) and they are rewritten to the local API, so the pixel, clicks and the
unsubscribe page work from the outbox.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

_SLUG = re.compile(r"[^a-z0-9]+")
_LINK = re.compile(r"https?://[^\s\"'<>]+?(/v1/(?:o|c|unsubscribe)/)")


@dataclass
class OutboxEmail:
    to: str
    subject: str
    html: str
    text: str
    headers: dict
    file: str = ""


def _raw_messages(source: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """(raw e-mails, [(phone, sms text)]) from a Twin or an iterable of raw messages."""
    sms: list[tuple[str, str]] = []
    if hasattr(source, "endpoint_url") and hasattr(source, "names"):  # a polku Twin (in this process)
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        from polku.twin.twin import ACCOUNT_ID, REGION

        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        raws = [m.raw_data for m in sent if getattr(m, "raw_data", None)]
        sms = [(phone, text) for phone, text in sns_backends[ACCOUNT_ID][REGION].sms_messages.values()]
        return raws, sms
    raws = []
    for m in source:
        raw = getattr(m, "raw_data", m)
        raws.append(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    return raws, sms


def parse_email(raw: str) -> OutboxEmail:
    msg = email.message_from_string(raw, policy=email.policy.default)
    html_part = msg.get_body(("html",))
    text_part = msg.get_body(("plain",))
    return OutboxEmail(
        to=str(msg.get("To", "")),
        subject=str(msg.get("Subject", "")),
        html=html_part.get_content() if html_part else "",
        text=text_part.get_content() if text_part else "",
        headers={k: str(v) for k, v in msg.items()},
    )


def write_outbox(source: Any, out_dir: str | Path, *, link_base: str | None = None) -> list[OutboxEmail]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if link_base is None and hasattr(source, "api_url"):
        link_base = source.api_url
    raws, sms = _raw_messages(source)
    emails: list[OutboxEmail] = []
    for i, raw in enumerate(raws, 1):
        e = parse_email(raw)
        body = e.html or f"<pre>{html.escape(e.text)}</pre>"
        if link_base:
            body = _LINK.sub(lambda m: link_base.rstrip("/") + m.group(1), body)
        slug = _SLUG.sub("-", e.subject.lower()).strip("-")[:40] or "message"
        e.file = f"{i:03d}-{slug}.html"
        (out / e.file).write_text(body, encoding="utf-8")
        emails.append(e)
    (out / "index.html").write_text(_index(emails, sms), encoding="utf-8")
    return emails


def _index(emails: Iterable[OutboxEmail], sms: list[tuple[str, str]]) -> str:
    rows = "\n".join(
        f"<tr><td>{i}</td><td>{html.escape(e.to)}</td><td><a href='{html.escape(e.file)}'>{html.escape(e.subject)}</a></td>"
        f"<td>{'yes' if 'List-Unsubscribe-Post' in e.headers else 'no'}</td></tr>"
        for i, e in enumerate(emails, 1)
    )
    sms_rows = "\n".join(f"<tr><td>{html.escape(p)}</td><td>{html.escape(t)}</td></tr>" for p, t in sms)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Polku outbox</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:32px;}td,th{padding:4px 10px;text-align:left;"
        "border-bottom:1px solid #ddd;}</style></head><body>"
        f"<h1>Polku outbox</h1><h2>E-mail ({len(list(emails)) if not isinstance(emails, list) else len(emails)})</h2>"
        "<table><tr><th>#</th><th>To</th><th>Subject</th><th>One-click unsubscribe</th></tr>"
        f"{rows}</table><h2>SMS ({len(sms)})</h2><table><tr><th>To</th><th>Text</th></tr>{sms_rows}</table>"
        "</body></html>"
    )
