"""Adapter: count and deliver consent-confirmation links (SES for e-mail, SNS for SMS), and the
pages of the link (``GET`` shows a button, ``POST`` confirms: mail scanners that follow links
do not confirm anything)."""

from __future__ import annotations

from html import escape


from polku import aws_clients
from polku.data import rate_limits
from polku.settings import get_settings
from polku.tracking import consent_confirmation as cc


def deliver(c: cc.Confirmation, url: str) -> None:
    settings = get_settings()
    message_id = "confirm-" + url.rsplit(".", 1)[-1][:24]
    if c.channel == "email":
        from polku.messaging.email_mime import build_email
        from polku.messaging.ses_sender import SesSender

        subject, text, html = cc.message_text(c, url)
        raw = build_email(sender=settings.sender_email, sender_name=None, to=c.address, subject=subject, text=text,
                          html=html, message_id=message_id, unsubscribe_url=None)
        SesSender(aws_clients.client("sesv2"), settings.ses_configuration_set).send(
            sender=settings.sender_email, to=c.address, raw=raw, message_id=message_id, journey="consent_confirmation")
    else:
        from polku.messaging.sns_sender import SnsSender

        SnsSender(aws_clients.client("sns")).send_sms(phone=c.address, text=cc.sms_text(url), transactional=True,
                                           message_id=message_id)


def link_ring():
    from polku.messaging.link_secret import key_ring

    return key_ring(get_settings().link_secret_arn, aws_clients.client)


def send(confirmations: list[cc.Confirmation], base_url: str) -> dict[str, str]:
    if not confirmations:
        return {}
    return cc.send_confirmations(confirmations, ring=link_ring(), base_url=base_url, take=rate_limits.take,
                                 deliver=deliver)


_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
         'content="width=device-width"><title>{title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>')


def page(title: str, body: str) -> str:
    return _PAGE.format(title=escape(title), body=body)


def confirm_page(token: str) -> tuple[int, str]:
    """The GET page: what is confirmed, and a button that POSTs back."""
    from polku import clock

    try:
        c = cc.read_token(link_ring(), token, clock.now())
    except cc.Invalid as err:
        return 400, page("This link does not work", f"<p>The link {escape(err.reason)}.</p>")
    what = "e-mails" if c.channel == "email" else "text messages"
    return 200, page("Confirm your subscription", f"<p>Receive marketing {what} at <b>{escape(c.address)}</b>?</p>"
                     '<form method="post"><button type="submit">Confirm</button></form>')


def confirm(token: str) -> tuple[int, str]:
    try:
        c = cc.confirm(link_ring(), token)
    except cc.Invalid as err:
        return 400, page("This link does not work", f"<p>The link {escape(err.reason)}.</p>")
    return 200, page("Thank you", f"<p>Confirmed: {escape(c.address)}.</p>")
