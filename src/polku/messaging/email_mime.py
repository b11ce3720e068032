"""Building the MIME message of one e-mail (pure: no I/O).

Marketing e-mail carries RFC 8058 one-click unsubscribe headers::

    List-Unsubscribe: <https://.../v1/unsubscribe/TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

and ``X-Polku-Message-Id`` so feedback can find the message even without SES tags.

The message is ``multipart/alternative`` (plain text, then HTML), laid out exactly as
``email.message.EmailMessage(policy=SMTP)`` with ``set_content(text)`` and
``add_alternative(html, subtype="html")`` lays it out: the same headers in the same order,
each part's transfer encoding chosen and encoded by the standard library's own
``email.contentmanager`` rules (7bit, 8bit, quoted-printable or base64), the same random
boundary form. What differs is the cost -- the standard library parses and refolds every
header through its header registry, about 3 ms per e-mail, ten times the rendering -- and
one thing it got wrong for us: a ``List-Unsubscribe`` URL longer than a line was written as
RFC 2047 encoded words (``=?utf-8?q?=3Chttps=3A//...?=``), which mail providers do not read
as a URL. Here the URL is written as it is, on one line (RFC 5322 allows up to 998
characters; a signed unsubscribe link is a few hundred).

Plain header values (printable ASCII, single spaces, short enough for one line, no
``=?``) are written as they are -- which is what the standard library writes for them too;
anything else (a subject with accents, a long subject, a display name that needs quoting)
is folded and encoded by the standard library, as before. ``tests/unit/test_email_mime.py``
compares the bytes with ``EmailMessage`` for a corpus of messages.
"""

from __future__ import annotations

import re
from email.contentmanager import _encode_text
from email.generator import BytesGenerator
from email.policy import SMTP
from email.utils import formataddr

_CRLF = "\r\n"
_MAX_LINE = 78  # the SMTP policy's folding width
_HARD_LINE = 998  # RFC 5322: no line longer than this
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, single spaces between
_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*")
_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")  # a display name formataddr leaves unquoted
_URL = re.compile(r"[!-~]+")  # an unsubscribe URL: no spaces, controls or non-ASCII (tokens are percent-encoded)


def build_email(
    *,
    sender: str,
    sender_name: str | None,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str | None,
) -> bytes:
    lines = [_header("From", formataddr((sender_name, sender)) if sender_name else sender, address=True),
             _header("To", to, address=True), _header("Subject", subject), _header("X-Polku-Message-Id", message_id)]
    if unsubscribe_url:
        lines.append(_unsubscribe_header(unsubscribe_url))
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click" + _CRLF)
    lines.append("MIME-Version: 1.0" + _CRLF)
    # The parts as the standard library generates them: the plain text part keeps the headers
    # set_content() gave the message (moved into the part by add_alternative); the HTML part is
    # a new message of its own, so it also says MIME-Version.
    parts = [_part("plain", text, mime_version=False), _part("html", html, mime_version=True)]
    boundary = BytesGenerator._make_boundary(b"\r\n".join(parts))
    head = "".join(lines) + f'Content-Type: multipart/alternative;{_CRLF} boundary="{boundary}"{_CRLF}{_CRLF}'
    delimiter = f"--{boundary}".encode("ascii")
    # Generator._handle_multipart: the first delimiter, the parts joined by CRLF + delimiter + CRLF,
    # then CRLF + the close delimiter.
    return (head.encode("ascii") + delimiter + b"\r\n" + (b"\r\n" + delimiter + b"\r\n").join(parts)
            + b"\r\n" + delimiter + b"--\r\n")


def _header(name: str, value: str, *, address: bool = False) -> str:
    """``Name: value`` + CRLF as the SMTP policy folds it: plain short values as they are, the
    rest through the standard library's header registry (which also refuses CR/LF)."""
    if (len(name) + 2 + len(value) <= _MAX_LINE and "=?" not in value
            and (_ADDRESS.fullmatch(value) or (address and _is_named_address(value)) or (not address and _PLAIN.fullmatch(value)))):
        return f"{name}: {value}{_CRLF}"
    return SMTP.fold(name, SMTP.header_store_parse(name, value)[1])


def _is_named_address(value: str) -> bool:
    name, sep, rest = value.partition(" <")
    return bool(sep) and rest.endswith(">") and bool(_NAME.fullmatch(name)) and bool(_ADDRESS.fullmatch(rest[:-1]))


def _unsubscribe_header(url: str) -> str:
    """RFC 2369/8058 ``List-Unsubscribe: <URL>``: the URL as it is, never encoded."""
    line = f"List-Unsubscribe: <{url}>"
    if not _URL.fullmatch(url) or "<" in url or ">" in url:
        raise ValueError("unsubscribe URL: only printable ASCII without spaces or angle brackets")
    if len(line) > _HARD_LINE:
        raise ValueError(f"unsubscribe URL: longer than an e-mail header line may be ({_HARD_LINE} characters)")
    return line + _CRLF


_NEWLINES = re.compile(r"\r\n|\r|\n")


def _part(subtype: str, content: str, *, mime_version: bool) -> bytes:
    """One text part as ``set_content(content, subtype=...)`` + BytesGenerator make it."""
    cte, payload = _encode_text(content, "utf-8", None, SMTP)
    head = f'Content-Type: text/{subtype}; charset="utf-8"{_CRLF}Content-Transfer-Encoding: {cte}{_CRLF}'
    if mime_version:
        head += "MIME-Version: 1.0" + _CRLF
    # Generator._write_lines: every line ending becomes CRLF; a last line without one stays so.
    pieces = _NEWLINES.split(payload)
    body = _CRLF.join(pieces)  # == each line but the last followed by CRLF, then the last as it is
    # BytesGenerator.write: ASCII, with the raw bytes of an 8bit payload (surrogateescape) put back
    return (head + _CRLF).encode("ascii") + body.encode("ascii", "surrogateescape")
