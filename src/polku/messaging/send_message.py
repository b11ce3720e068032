"""The send step: one personal message, rendered and delivered exactly once.

Called by the Send function (a journey Task). Input is documented in docs/messages.md
("Send step input"); :meth:`SendInput.parse` names the field that is wrong.

Order of work: claim the message id (execution + state) in the message log -> read
the profile -> choose the channel -> consent, suppression, frequency caps, quiet hours
-> products (given, or asked from the recommend function) -> signed links -> render
in the sandbox -> deliver -> record the outcome. A retry of the same step returns the
recorded outcome instead of sending again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from polku import clock
from polku.messaging import message_log, suppression_list, web_inbox
from polku.messaging.channel_choice import WEB, WEB_CARD_TYPES, choose_channel, web_card_alongside
from polku.messaging.delivery import Delivered, DeliveryError, TransientDeliveryError
from polku.messaging.email_mime import build_email
from polku.messaging.journey_data import INCLUDES, enrich
from polku.messaging.links import LinkError, LinkSigner, safe_destination
from polku.messaging.message_context import DEFAULT_BRAND, build_context
from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import TRANSACTIONAL, FrequencyCaps, check_send
from polku.messaging.send_time import QuietHours, choose_send_time
from polku.messaging.templating import TemplateRenderError, TemplateStore
from polku.observability import logger

MESSAGE_TYPES = ("transactional", "offer", "journey", "reminder", "newsletter")
MAX_OBJECT_BYTES = 64 * 1024  # context, offer, editable, brand: each at most this much JSON
MAX_RECOMMENDATIONS = 50
CHANNELS = ("email", "sms", "push", "webhook", "web")


class SendInputError(ValueError):
    """The send step input is wrong; the message names the field."""


def _str(event: Mapping, name: str, *, required: bool = True, max_len: int = 256, default: str | None = None) -> str | None:
    value = event.get(name, default)
    if value is None or value == "":
        if required:
            raise SendInputError(f"{name}: required (a non-empty string)")
        return default
    if not isinstance(value, str):
        raise SendInputError(f"{name}: must be a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise SendInputError(f"{name}: longer than {max_len} characters")
    return value


@dataclass(frozen=True)
class SendInput:
    customer_id: str
    journey: str
    step: str
    template: str
    execution_id: str
    message_type: str = "journey"
    variant: str = "A"
    context: dict = field(default_factory=dict)
    recommendations: list | None = None
    recommend: dict | None = None  # {"strategy": "...", "count": 4, ...} -> ask RECOMMEND_FUNCTION_NAME
    offer: dict | None = None
    channel: str | None = None  # ask for one channel (used only if allowed)
    locale: str | None = None  # override the profile's locale
    editable: dict = field(default_factory=dict)  # distributed-marketing overrides: block name -> text
    brand: dict | None = None
    scheduled_at: str | None = None  # when the journey meant it to go (e.g. the send_time answer)
    include: tuple[str, ...] = ()  # journey data to read at send time: cart, viewed_product (journey_data.py)

    @classmethod
    def parse(cls, event: Any) -> "SendInput":
        if not isinstance(event, Mapping):
            raise SendInputError("input: must be an object")
        message_type = _str(event, "message_type", required=False, default="journey")
        if message_type not in MESSAGE_TYPES:
            raise SendInputError(f"message_type: must be one of {list(MESSAGE_TYPES)}, got {message_type!r}")
        channel = _str(event, "channel", required=False)
        if channel is not None and channel not in CHANNELS:
            raise SendInputError(f"channel: must be one of {list(CHANNELS)}, got {channel!r}")
        objects = {}
        for name in ("context", "recommend", "offer", "editable", "brand"):
            value = event.get(name)
            if value is not None and not isinstance(value, Mapping):
                raise SendInputError(f"{name}: must be an object")
            if value is not None and len(json.dumps(value, default=str)) > MAX_OBJECT_BYTES:
                raise SendInputError(f"{name}: larger than {MAX_OBJECT_BYTES // 1024} KiB of JSON")
            objects[name] = dict(value) if value is not None else None
        recs = event.get("recommendations")
        if recs is not None and not isinstance(recs, list):
            raise SendInputError("recommendations: must be a list of products")
        if recs is not None and len(recs) > MAX_RECOMMENDATIONS:
            raise SendInputError(f"recommendations: at most {MAX_RECOMMENDATIONS} products")
        scheduled_at = _str(event, "scheduled_at", required=False, max_len=40)
        if scheduled_at is not None:
            try:
                scheduled_at = clock.to_iso(clock.parse_iso(scheduled_at))
            except ValueError:
                raise SendInputError("scheduled_at: must be an ISO-8601 timestamp") from None
        if recs is not None:
            for i, p in enumerate(recs):
                if not isinstance(p, Mapping):
                    raise SendInputError(f"recommendations[{i}]: must be an object with product_id, name, price, url ...")
        if objects["recommend"] is not None and not isinstance(objects["recommend"].get("strategy"), str):
            raise SendInputError("recommend.strategy: required (a string)")
        include = event.get("include") or []
        if not isinstance(include, list) or not all(isinstance(x, str) for x in include):
            raise SendInputError(f"include: must be a list of names from {list(INCLUDES)}")
        unknown = [x for x in include if x not in INCLUDES]
        if unknown:
            raise SendInputError(f"include: unknown {unknown[0]!r}; known: {list(INCLUDES)}")
        editable = objects["editable"] or {}
        for k, v in editable.items():
            if not isinstance(v, str):
                raise SendInputError(f"editable.{k}: must be a string")
        return cls(
            customer_id=_str(event, "customer_id"),
            journey=_str(event, "journey", max_len=64),
            step=_str(event, "step", max_len=128),
            template=_str(event, "template", max_len=64),
            execution_id=_str(event, "execution_id", max_len=2048),
            message_type=message_type,
            variant=_str(event, "variant", required=False, max_len=32, default="A"),
            context=objects["context"] or {},
            recommendations=list(recs) if recs is not None else None,
            recommend=objects["recommend"],
            offer=objects["offer"],
            channel=channel,
            locale=_str(event, "locale", required=False, max_len=35),
            editable=editable,
            brand=objects["brand"],
            scheduled_at=scheduled_at,
            include=tuple(include),
        )


@dataclass
class SendDeps:
    """What the send step talks to (real adapters in the handler, fakes in unit tests)."""

    templates: TemplateStore
    signer: Callable[[], LinkSigner]  # built lazily: a skipped message needs no secret
    load_profile: Callable[[str], Mapping | None]
    email: Any = None  # SesSender
    sms_push: Any = None  # SnsSender
    webhook: Any = None  # WebhookSender
    recommend: Callable[[dict, str], list] | None = None
    sender_email: str = "hello@example.com"
    caps: FrequencyCaps = FrequencyCaps()
    quiet: QuietHours | None = QuietHours()
    load_events: Callable[[str, list], list] | None = None  # (customer, anonymous ids) -> their events (include: cart)
    load_products: Callable[[list], Mapping] | None = None  # product id -> catalogue content
    paused: Callable[[], str | None] | None = None  # why marketing e-mail is paused (sending_pause), or None


def _outcome(item) -> dict:
    out = {
        "message_id": item.message_id,
        "status": item.status,
        "channel": item.channel,
        "provider_id": item.provider_id,
        "reason": item.reason,
    }
    if item.status == "deferred" and item.retry_at:
        out["send_at"] = item.retry_at
    return out


def send_message(inp: SendInput, deps: SendDeps) -> dict:
    message_id = message_log.message_id_for(inp.execution_id, inp.step)
    claim = message_log.claim(
        message_id,
        customer_id=inp.customer_id,
        journey=inp.journey,
        step=inp.step,
        execution_id=inp.execution_id[:2048],
        variant=inp.variant,
        template=inp.template,
        message_type=inp.message_type,
    )
    if not claim.won:
        logger.info("send step replayed: returning the recorded outcome", extra={"message_id": message_id})
        return _with_web_card(inp, deps, {**_outcome(claim.item), "replayed": True})
    item = claim.item
    try:
        return _with_web_card(inp, deps, _send_claimed(inp, deps, item))
    except TransientDeliveryError:
        raise
    except Exception as exc:  # anything unexpected
        reason = f"{type(exc).__name__}: {str(exc)[:300]}"
        if not item.provider:  # no provider saw it: release the claim so a retry may send
            message_log.release(item, reason)
        elif item.status == "sending":  # handed over: never resent, the outcome is unknown
            message_log.record_outcome(item, "unknown", reason=reason)
        raise


WEB_CARD_STEP = "{step}/web"  # the web card sent alongside a message is its own message (channel policy)


def _with_web_card(inp: SendInput, deps: SendDeps, outcome: dict) -> dict:
    """The web card that goes alongside this message, if the channel policy says so for its type
    (channel_choice.web_card_alongside): a message of its own (step ``<step>/web``), sent once.
    Best effort: a card that cannot be placed never fails the message it goes with."""
    if inp.channel == WEB or outcome.get("channel") == WEB or inp.message_type not in WEB_CARD_TYPES:
        return outcome  # (the type first: most messages cost no second profile read)
    try:
        profile = deps.load_profile(inp.customer_id)
        recipient = Recipient.from_profile(profile, inp.customer_id)
        template = variant_content(inp.journey, inp.variant).template or inp.template
        supported = deps.templates.channels(template, inp.locale or recipient.locale)
        decision = web_card_alongside(recipient, inp.message_type, supported, outcome.get("channel"))
        if not decision.ok:
            return outcome
        card = send_message(dataclasses.replace(inp, channel=WEB, step=WEB_CARD_STEP.format(step=inp.step)), deps)
    except TransientDeliveryError:
        raise
    except Exception:  # noqa: BLE001 - logged; the message it goes with stands
        logger.exception("web card not placed", extra={"customer_id": inp.customer_id, "step": inp.step})
        return outcome
    return {**outcome, "web": {k: card.get(k) for k in ("message_id", "status", "reason")}}


def _anonymous_ids(profile: Mapping | None) -> list[str]:
    """The anonymous ids linked to the customer (a cart filled before signing in is theirs too)."""
    ids = (profile or {}).get("anonymous_ids") if isinstance(profile, Mapping) else None
    return [str(i) for i in ids if i][:20] if isinstance(ids, (list, tuple, set)) else []


def message_stage(context: Mapping) -> str:
    """What the step is for (the journey's ``context.stage``; ``main`` when it names none)."""
    stage = context.get("stage") if isinstance(context, Mapping) else None
    return stage if isinstance(stage, str) and stage else "main"


def variant_content(journey: str, variant: str | None):
    """The registry's declared difference of this variant (``variants:``), or an empty one."""
    from polku.journeys import registry

    try:
        entry = registry.current().journeys.get(journey)
    except registry.RegistryError:
        logger.warning("registry not readable: variant content not applied", exc_info=True)
        entry = None
    return entry.variant(variant) if entry is not None else registry.Variant()


def _send_claimed(inp: SendInput, deps: SendDeps, item) -> dict:
    now = clock.now()
    profile = deps.load_profile(inp.customer_id)
    recipient = Recipient.from_profile(profile, inp.customer_id)
    locale = inp.locale or recipient.locale
    declared = variant_content(inp.journey, inp.variant)
    template = declared.template or inp.template
    try:
        supported = deps.templates.channels(template, locale)
    except TemplateRenderError as exc:
        return _done(item, "failed", reason=str(exc))
    if "email" in supported:
        supported = [*supported, "webhook"]  # the webhook carries the e-mail rendering
    decision = choose_channel(recipient, inp.message_type, supported, requested=inp.channel)
    if not decision.ok:
        return _done(item, "skipped", reason=decision.reason)
    channel = decision.channel
    address = recipient.address(channel)
    key = suppression_list.address_key(channel, address)
    suppressed = suppression_list.is_suppressed(key) if channel not in ("webhook", WEB) else False
    recent = message_log.recent_sends(inp.customer_id, now - dt.timedelta(days=7))
    paused = deps.paused() if deps.paused is not None and channel == "email" and inp.message_type != TRANSACTIONAL else None
    policy = check_send(
        recipient, channel, inp.message_type, now, suppressed=suppressed, recent_sends=recent, caps=deps.caps, quiet=deps.quiet,
        paused=paused,
    )
    if policy.action == "skip":
        return _done(item, "skipped", channel=channel, reason=policy.reason)
    if policy.action == "defer":
        return _done(item, "deferred", channel=channel, reason=policy.reason, retry_at=clock.to_iso(policy.retry_at))

    products = inp.recommendations
    if products is None and inp.recommend and deps.recommend is not None:
        products = deps.recommend(inp.recommend, inp.customer_id)
    signer = deps.signer()
    mid, cid = item.message_id, inp.customer_id
    tracked: dict[str, str] = {}

    def track(url: Any) -> str:
        url = str(url)
        if url not in tracked:
            try:
                tracked[url] = signer.click_url(safe_destination(url), mid, cid, channel=channel, journey=inp.journey)
            except LinkError:
                tracked[url] = ""  # an unsafe URL in data renders as no link
        return tracked[url]

    unsubscribe = signer.unsubscribe_url(key, mid, cid, channel=channel, journey=inp.journey)
    customer = {**recipient.traits, "customer_id": cid, "first_name": recipient.first_name, "email": recipient.email}
    data = enrich(
        inp.context, inp.include,
        events=(lambda: deps.load_events(cid, _anonymous_ids(profile))) if deps.load_events is not None else None,
        catalog=deps.load_products,
    )
    context = build_context(
        customer=customer,
        products=products or [],
        offer=inp.offer,
        data=data,
        brand=inp.brand,
        links={"unsubscribe": unsubscribe, "open_pixel": signer.open_url(mid, cid, channel=channel, journey=inp.journey)},
        message={"id": mid, "journey": inp.journey, "step": inp.step, "variant": inp.variant, "type": inp.message_type,
                 "stage": message_stage(inp.context)},
        track=track,
        editable_overrides=inp.editable,
    )
    render_channel = "email" if channel in ("email", "webhook") else channel
    web_card = None
    try:
        rendered = deps.templates.render(template, context, channel=render_channel, locale=locale)
    except TemplateRenderError as exc:
        return _done(item, "failed", channel=channel, reason=str(exc)[:1000])
    apply_variant_subject(rendered, declared, message_stage(inp.context))

    brand_name = (inp.brand or {}).get("name") or DEFAULT_BRAND["name"]
    if channel == "email":
        raw = build_email(
            sender=deps.sender_email,
            sender_name=brand_name,
            to=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=mid,
            unsubscribe_url=None if inp.message_type == "transactional" else unsubscribe,
        )
        provider, deliver = "ses", lambda: deps.email.send(
            sender=deps.sender_email, to=address, raw=raw, message_id=mid, journey=inp.journey)
    elif channel == "sms":
        provider, deliver = "sns", lambda: deps.sms_push.send_sms(
            phone=address, text=rendered.parts["sms"], transactional=inp.message_type == "transactional", message_id=mid
        )
    elif channel == "push":
        provider, deliver = "sns", lambda: deps.sms_push.send_push(
            endpoint_arn=address, title=rendered.parts["push_title"], body=rendered.parts["push_body"],
            url=None, message_id=mid,
        )
    elif channel == WEB:  # the inbox is the message log itself: the card is stored with the outcome
        web_card = web_inbox.card(rendered.parts, track, products, data)
        provider, deliver = "web", lambda: Delivered("web", mid)
    else:
        provider, deliver = "webhook", lambda: deps.webhook.send(
            message={"message_id": mid, "customer_id": cid, "journey": inp.journey, "step": inp.step,
                     "variant": inp.variant, "template": template, "locale": rendered.locale,
                     "subject": rendered.subject, "text": rendered.text, "html": rendered.html}
        )

    # Exactly once from here on: once the provider may have the message, the claim is never
    # released for a resend; every outcome is recorded with bounded retries (docs/messages.md).
    message_log.hand_over(item, provider)
    try:
        delivered = deliver()
    except DeliveryError as exc:
        if exc.transient:  # the provider refused it: sending again is safe
            message_log.finish(item, "retry", channel=channel, reason=str(exc)[:500])
            raise TransientDeliveryError(str(exc)) from exc
        return _done(item, "unknown" if exc.ambiguous else "failed", channel=channel, reason=str(exc)[:500], after_provider=True)
    except Exception as exc:  # noqa: BLE001 - not a provider answer we know: it may have been accepted
        return _done(item, "unknown", channel=channel, reason=f"{type(exc).__name__}: {str(exc)[:480]}", after_provider=True)

    fields = {"channel": channel, "provider": delivered.provider, "provider_id": delivered.provider_id,
              "sent_at": clock.now_iso()}
    if web_card is not None:
        fields.update(card=web_card, expires_at=web_inbox.expires_at(now))
    try:
        fields.update(
            locale=rendered.locale,
            address=key,
            subject=rendered.subject[:300] or None,
            scheduled_at=inp.scheduled_at or clock.to_iso(now),
            reason=decision.reason,
            # What was recommended, for recommendation click-through in the report.
            recommended_products=[str(p["product_id"]) for p in (products or []) if p.get("product_id")] or None,
            recommend_strategy=(inp.recommend or {}).get("strategy") if products else None,
        )
    except Exception:  # noqa: BLE001 - details are worth less than recording that it was sent
        logger.exception("message details not recorded", extra={"message_id": mid})
    recorded = message_log.record_outcome(item, "sent", **fields)
    logger.info("message sent", extra={"message_id": mid, "channel": channel, "template": template, "recorded": recorded})
    out = {"message_id": mid, "status": "sent", "channel": channel, "provider_id": delivered.provider_id,
           "locale": fields.get("locale"), "reason": fields.get("reason")}
    return out if recorded else {**out, "recorded": False}


def apply_variant_subject(rendered, declared, stage) -> None:
    """A subject line the registry declares for this variant, stage and the message's locale
    replaces the template's (the e-mail subject and its HTML title, or the push title). Without a
    line in that locale the template's own subject stays (lint refuses such a registry)."""
    subject = declared.subject_for(stage if isinstance(stage, str) else None, rendered.locale)
    if not subject:
        return
    if "subject" in rendered.parts:
        old = rendered.parts["subject"]
        rendered.parts["subject"] = subject
        if rendered.parts.get("html") and old:
            from markupsafe import escape

            rendered.parts["html"] = rendered.parts["html"].replace(
                f"<title>{escape(old)}</title>", f"<title>{escape(subject)}</title>", 1)
    if "push_title" in rendered.parts:
        rendered.parts["push_title"] = subject


def _done(item, status: str, *, after_provider: bool = False, **fields) -> dict:
    if after_provider:  # a provider saw the message: recorded with retries, never released
        message_log.record_outcome(item, status, **fields)
    else:
        message_log.finish(item, status, **fields)
    logger.info("message not sent", extra={"message_id": item.message_id, "status": status, "reason": fields.get("reason")})
    return _outcome(item) | {"status": status, "channel": fields.get("channel"), "reason": fields.get("reason"),
                             **({"send_at": fields["retry_at"]} if fields.get("retry_at") else {})}


def send_time_for(event: Mapping, load_profile: Callable[[str], Mapping | None], quiet: QuietHours | None = QuietHours()) -> dict:
    """The ``send_time`` action: when to send to this customer (for a Wait state's TimestampPath)."""
    customer_id = _str(event, "customer_id")
    window = event.get("window_hours", 24)
    if not isinstance(window, int) or not 1 <= window <= 168:
        raise SendInputError("window_hours: must be an integer from 1 to 168")
    recipient = Recipient.from_profile(load_profile(customer_id), customer_id)
    choice = choose_send_time(clock.now(), recipient.open_hours, time_zone=recipient.time_zone, window_hours=window, quiet=quiet)
    return {"send_at": choice.iso, "reason": choice.reason, "history": recipient.history_weight}
