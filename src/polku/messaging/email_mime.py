"""Building the MIME message of one e-mail (pure: no I/O).

Marketing e-mail carries RFC 8058 one-click unsubscribe headers::

    List-Unsubscribe: <https://.../v1/unsubscribe/TOKEN>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

and ``X-Polku-Message-Id`` so feedback can find the message even without SES tags.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr


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
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["X-Polku-Message-Id"] = message_id
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()
