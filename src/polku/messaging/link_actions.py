"""What the tracking API does with a message link (the Chalice routes stay thin).

* ``GET /v1/o/{token}``: a 1x1 GIF; the open is recorded (message log + tracking event).
* ``GET /v1/c/{token}``: 302 to the URL signed into the token; the click is recorded.
* ``GET /v1/unsubscribe/{token}``: a small page with a button (no state change on GET:
  mail scanners follow links).
* ``POST /v1/unsubscribe/{token}``: unsubscribes (RFC 8058 one-click, and the button):
  the address joins the suppression list and an ``unsubscribe`` event withdraws the
  channel's consent on the profile.

A forged, altered or wrong-purpose token gets a 404 page and records nothing; a click
never redirects anywhere the token does not name, and a signed destination that is not a
plain URL (control characters, from before destinations were checked at signing) gets 400.

Unsubscribe tokens carry only the message id; the address, customer, channel and journey
come from the message log (:func:`unsubscribe_target`). Tokens of mails sent before carry
the address and customer themselves and are used as they are.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

from polku import clock
from polku.data import messages
from polku.messaging import message_log, suppression_list, tracking_events
from polku.messaging.links import LinkClaims, LinkError, LinkSigner, UnsafeDestination
from polku.observability import logger

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


@dataclass
class LinkResponse:
    status: int
    body: bytes | str
    headers: dict = field(default_factory=dict)


def _page(title: str, body_html: str, status: int = 200) -> LinkResponse:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;'>"
        f"{body_html}</body></html>"
    )
    return LinkResponse(
        status,
        page,
        {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'", **NO_STORE},
    )


def _not_found() -> LinkResponse:
    return _page("Link not valid", "<h1>This link is not valid</h1><p>It may have been altered or mistyped.</p>", 404)


def _verify(signer: LinkSigner, token: str, kind: str) -> LinkClaims | None:
    try:
        return signer.verify(token, kind)
    except LinkError as exc:
        logger.warning("rejected link token", extra={"kind": kind, "reason": str(exc)})
        return None


def open_pixel(signer: LinkSigner, token: str) -> LinkResponse:
    claims = _verify(signer, token, "open")
    if claims is not None:
        at = clock.now_iso()
        message_log.record_feedback(claims.message_id, "open", at)
        tracking_events.record_reaction(
            "open", message_id=claims.message_id, customer_id=claims.customer_id, channel=claims.channel,
            journey=claims.journey, at=at,
        )
    # The same pixel either way: a forged token learns nothing.
    return LinkResponse(200, PIXEL_GIF, {"Content-Type": "image/gif", **NO_STORE})


def click(signer: LinkSigner, token: str) -> LinkResponse:
    try:
        claims = signer.verify(token, "click")
    except UnsafeDestination as exc:  # signed, but not a URL a Location header may carry
        logger.warning("refused click destination", extra={"reason": str(exc)})
        return _page("Link not valid", "<h1>This link's destination is not valid</h1>"
                     "<p>The address it points to is not a plain web address.</p>", 400)
    except LinkError as exc:
        logger.warning("rejected link token", extra={"kind": "click", "reason": str(exc)})
        return _not_found()
    if not claims.url:
        return _not_found()
    at = clock.now_iso()
    message_log.record_feedback(claims.message_id, "click", at)
    tracking_events.record_reaction(
        "click", message_id=claims.message_id, customer_id=claims.customer_id, channel=claims.channel,
        url=claims.url, journey=claims.journey, at=at,
    )
    return LinkResponse(302, b"", {"Location": claims.url, **NO_STORE})


def unsubscribe_target(claims: LinkClaims) -> LinkClaims | None:
    """The full claims of an unsubscribe token: an opaque token (message id only) is resolved
    through the message log; a token of the earlier format already carries them. None when
    the message is unknown."""
    if claims.address:
        return claims
    item = messages.get(claims.message_id, consistent=True)
    if item is None or not item.customer_id:
        return None
    channel = item.channel or (item.address.split(":", 1)[0] if item.address else "email")
    return LinkClaims(kind="unsubscribe", message_id=claims.message_id, customer_id=item.customer_id,
                      channel=channel, address=item.address or None, journey=item.journey or None)


def unsubscribe_page(signer: LinkSigner, token: str, action_path: str = "") -> LinkResponse:
    claims = _verify(signer, token, "unsubscribe")
    claims = unsubscribe_target(claims) if claims is not None else None
    if claims is None:
        return _not_found()
    if not claims.address:  # the message log has no address (its outcome was not recorded)
        return _page(
            "Unsubscribe",
            "<h1>Unsubscribe</h1><p>Stop marketing messages like this one?</p>"
            f"<form method='post' action='{html.escape(action_path, quote=True)}'>"
            "<button type='submit' style='padding:10px 18px;'>Unsubscribe</button></form>",
        )
    shown = html.escape(claims.address.split(":", 1)[1]) if claims.channel == "email" else html.escape(claims.channel)
    return _page(
        "Unsubscribe",
        f"<h1>Unsubscribe</h1><p>Stop marketing messages to <strong>{shown}</strong>?</p>"
        f"<form method='post' action='{html.escape(action_path, quote=True)}'>"
        "<button type='submit' style='padding:10px 18px;'>Unsubscribe</button></form>",
    )


def unsubscribe(signer: LinkSigner, token: str) -> LinkResponse:
    claims = _verify(signer, token, "unsubscribe")
    claims = unsubscribe_target(claims) if claims is not None else None
    if claims is None:
        return _not_found()
    if claims.address:
        suppression_list.suppress(claims.address, "unsubscribe", message_id=claims.message_id)
    else:  # no address on record: the unsubscribe event below still withdraws the channel's consent
        logger.warning("unsubscribe without an address on record", extra={"message_id": claims.message_id})
    tracking_events.record_reaction(
        "unsubscribe", message_id=claims.message_id, customer_id=claims.customer_id, channel=claims.channel,
        journey=claims.journey,
    )
    logger.info("unsubscribed", extra={"message_id": claims.message_id, "channel": claims.channel})
    return _page("Unsubscribed", "<h1>You are unsubscribed</h1><p>You will not receive these messages any more.</p>")
