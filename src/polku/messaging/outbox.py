"""The demo outbox: the e-mails (and SMS) the twin's SES/SNS accepted, written to a
folder you can open in a browser: one HTML file per e-mail plus ``index.html``.

    from polku.messaging.outbox import write_outbox
    write_outbox(twin, "out/outbox")            # a running Twin
    write_outbox(list_of_raw_mime, "out/outbox") # or raw messages (str/bytes)
    write_outbox(raws, "out/sim", sms=[(phone, text)], push=[(endpoint, title, body)])

Each e-mail is written twice, as it would be seen: ``NNN-subject.html`` (the HTML part) and
``NNN-subject.txt`` (the text part). :func:`delivered` reads what the twin's SES and SNS
accepted, keyed by Polku message id (e-mail) and provider id (SMS, push), for the simulator's
message lines (``polku journeys simulate --outbox``).

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


@dataclass
class Delivered:
    """One message as the twin's provider accepted it."""

    channel: str  # email | sms | push
    to: str
    subject: str  # e-mail subject or push title ("" for SMS)
    text: str  # e-mail text part, SMS text or push body
    html: str = ""
    raw: str = ""  # the raw e-mail


_POLKU_ID = re.compile(r"^X-Polku-Message-Id:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def delivered(twin: Any) -> tuple[dict[str, Delivered], dict[str, Delivered]]:
    """(e-mails by Polku message id, SMS and push by provider message id) of a Twin in this process.
    E-mails are parsed only when asked for (:func:`email_of`); here only their id is read."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    emails: dict[str, Delivered] = {}
    for m in list(ses_backends[ACCOUNT_ID][REGION].sent_messages):
        raw = getattr(m, "raw_data", None)
        if not raw:
            continue
        head = raw.split("\n\n", 1)[0] if "\r\n\r\n" not in raw else raw.split("\r\n\r\n", 1)[0]
        found = _POLKU_ID.search(head)
        if found:
            emails[found.group(1)] = Delivered("email", "", "", "", raw=raw)
    sns = sns_backends[ACCOUNT_ID][REGION]
    other: dict[str, Delivered] = {}
    for provider_id, (phone, text) in list(sns.sms_messages.items()):
        other[provider_id] = Delivered("sms", phone, "", text)
    for endpoint in list(getattr(sns, "platform_endpoints", {}).values()):
        for provider_id, message in list(endpoint.messages.items()):
            title, body = _push_parts(message)
            other[provider_id] = Delivered("push", endpoint.arn, title, body)
    return emails, other


def email_of(d: Delivered) -> Delivered:
    """``d`` with to, subject, text and HTML read from its raw e-mail (parsed once). The
    compat32 parser with the header decoded by hand: the same strings as :func:`parse_email`
    for the MIME Polku builds, ~25x quicker (0.18 ms instead of 4.7 ms per e-mail), which
    matters for a simulation's thousands of message lines."""
    if d.channel == "email" and d.raw and not (d.subject or d.text or d.html):
        from email.header import decode_header, make_header

        msg = email.message_from_string(d.raw)
        d.to = str(make_header(decode_header(msg.get("To", ""))))
        d.subject = str(make_header(decode_header(msg.get("Subject", ""))))
        for part in msg.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and not part.is_multipart():
                body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
                if kind == "text/plain" and not d.text:
                    d.text = body
                elif kind == "text/html" and not d.html:
                    d.html = body
    return d


_TOKEN_LINK = re.compile(r"https?://[^\s\"'<>]+?/v1/(o|c|unsubscribe)/([A-Za-z0-9_\-]+)\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


def readable(text: str) -> str:
    """``text`` with Polku's signed links written as a reader would follow them: a click link as
    its destination URL, the unsubscribe link as ``[unsubscribe]`` (their tokens differ with
    every link key, so the simulator's output stays the same from run to run)."""

    def one(m: re.Match) -> str:
        if m.group(1) != "c":
            return "[unsubscribe]" if m.group(1) == "unsubscribe" else "[open pixel]"
        import base64
        import json

        try:
            claims = json.loads(base64.urlsafe_b64decode(m.group(2) + "=" * (-len(m.group(2)) % 4)))
            return str(claims["u"])
        except (ValueError, KeyError, TypeError):
            return m.group(0)

    return _TOKEN_LINK.sub(one, text)


def _push_parts(message: str) -> tuple[str, str]:
    """(title, body) of an SNS push message (our JSON structure with GCM/APNS, or plain text)."""
    import json

    try:
        payload = json.loads(message)
        gcm = json.loads(payload.get("GCM") or "{}")
        note = gcm.get("notification") or {}
        return str(note.get("title") or ""), str(note.get("body") or payload.get("default") or "")
    except (ValueError, TypeError, AttributeError):
        return "", str(message)


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


_WRITTEN = re.compile(r"\d{3,}-[a-z0-9-]*\.(html|txt)|index\.html")


def write_outbox(source: Any, out_dir: str | Path, *, link_base: str | None = None,
                 sms: list[tuple[str, str]] | None = None,
                 push: list[tuple[str, str, str]] | None = None) -> list[OutboxEmail]:
    """Write the e-mails of ``source`` (HTML and text files) and an index with the SMS and push
    messages (``sms``/``push`` given, or a Twin's)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # an earlier run's messages would read as this run's
        if _WRITTEN.fullmatch(old.name):
            old.unlink()
    if link_base is None and hasattr(source, "api_url"):
        link_base = source.api_url
    raws, twin_sms = _raw_messages(source)
    sms = twin_sms if sms is None else sms
    emails: list[OutboxEmail] = []
    for i, raw in enumerate(raws, 1):
        e = parse_email(raw)
        body = e.html or f"<pre>{html.escape(e.text)}</pre>"
        if link_base:
            body = _LINK.sub(lambda m: link_base.rstrip("/") + m.group(1), body)
        slug = _SLUG.sub("-", e.subject.lower()).strip("-")[:40] or "message"
        e.file = f"{i:03d}-{slug}.html"
        (out / e.file).write_text(body, encoding="utf-8")
        text = e.text
        if link_base:
            text = _LINK.sub(lambda m: link_base.rstrip("/") + m.group(1), text)
        (out / e.file.replace(".html", ".txt")).write_text(text, encoding="utf-8")
        emails.append(e)
    (out / "index.html").write_text(_index(emails, sms, push or []), encoding="utf-8")
    return emails


def _index(emails: Iterable[OutboxEmail], sms: list[tuple[str, str]], push: list[tuple[str, str, str]] = ()) -> str:
    rows = "\n".join(
        f"<tr><td>{i}</td><td>{html.escape(e.to)}</td><td><a href='{html.escape(e.file)}'>{html.escape(e.subject)}</a>"
        f" (<a href='{html.escape(e.file.replace('.html', '.txt'))}'>text</a>)</td>"
        f"<td>{'yes' if 'List-Unsubscribe-Post' in e.headers else 'no'}</td></tr>"
        for i, e in enumerate(emails, 1)
    )
    sms_rows = "\n".join(f"<tr><td>{html.escape(p)}</td><td>{html.escape(t)}</td></tr>" for p, t in sms)
    push_rows = "\n".join(f"<tr><td>{html.escape(e)}</td><td>{html.escape(t)}</td><td>{html.escape(b)}</td></tr>"
                          for e, t, b in push)
    push_table = (f"<h2>Push ({len(push)})</h2><table><tr><th>Endpoint</th><th>Title</th><th>Body</th></tr>{push_rows}</table>"
                  if push else "")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Polku outbox</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:32px;}td,th{padding:4px 10px;text-align:left;"
        "border-bottom:1px solid #ddd;}</style></head><body>"
        f"<h1>Polku outbox</h1><h2>E-mail ({len(list(emails)) if not isinstance(emails, list) else len(emails)})</h2>"
        "<table><tr><th>#</th><th>To</th><th>Subject</th><th>One-click unsubscribe</th></tr>"
        f"{rows}</table><h2>SMS ({len(sms)})</h2><table><tr><th>To</th><th>Text</th></tr>{sms_rows}</table>"
        f"{push_table}</body></html>"
    )
