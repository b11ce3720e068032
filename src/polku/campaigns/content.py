"""What a campaign says and whether it can be sent: its message rendered by the one renderer, and lint.

Rendering goes through the journeys' preview path (``journeys.content.preview_context``, the
template store of ``messaging.templating``): the campaign's template with the sample data of
``templates/_samples`` and, for a preview, one real recipient's traits.
"""

from __future__ import annotations

from pathlib import Path

from polku.campaigns import segments
from polku.campaigns.definition import Campaign


def message_context(store, campaign: Campaign, variant: str, customer: dict | None = None) -> dict:
    from polku.journeys.content import preview_context, sample_for

    sample = dict(sample_for(store.root, campaign.template))
    sample["data"] = {**(sample.get("data") or {}), "stage": "main", "campaign": campaign.name}
    sample["offer"] = None
    if customer is not None:
        sample["customer"] = customer
    return preview_context(sample, {"journey": campaign.journey, "step": "send", "variant": variant,
                                    "type": campaign.message_type, "stage": "main"})


def render(store, campaign: Campaign, variant: str, channel: str = "email", locale: str | None = None,
           customer: dict | None = None):
    return store.render(campaign.template, message_context(store, campaign, variant, customer), channel=channel,
                        locale=locale)


def lint(campaign: Campaign, store, *, segments_dir: Path | None = None, quiet=None) -> list[str]:
    """Errors that would stop the campaign or make it send something else than meant (empty: fine)."""
    from polku.messaging.templating import TemplateRenderError
    from polku.recommend.strategies import STRATEGIES

    errors: list[str] = []
    try:
        segments.load(campaign.segment, segments_dir)
    except segments.SegmentError as exc:
        errors.append(f"segment: {exc}")
    if campaign.recommend and campaign.recommend["strategy"] not in STRATEGIES:
        errors.append(f"recommend.strategy: one of {', '.join(STRATEGIES)}, got {campaign.recommend['strategy']!r}")
    if campaign.template not in store.message_names():
        return errors + [f"template: no templates/messages/{campaign.template}/ (templates: "
                         f"{', '.join(store.message_names())})"]
    for locale in store.locales(campaign.template):
        channels = store.channels(campaign.template, locale)
        if campaign.channel and campaign.channel not in channels:
            errors.append(f"channel: templates/messages/{campaign.template}/{locale}.j2 has no {campaign.channel} part "
                          f"(it has {', '.join(channels)})")
        for channel in channels:
            seen: dict[tuple, str] = {}
            for variant in sorted(campaign.variants):
                try:
                    r = render(store, campaign, variant, channel, locale)
                except TemplateRenderError as exc:
                    errors.append(f"template: {locale} {channel} variant {variant}: {exc}")
                    continue
                said = (r.parts.get("subject") or r.parts.get("push_title") or "",
                        r.parts.get("text") or r.parts.get("sms") or r.parts.get("push_body") or "")
                if said in seen and len(campaign.variants) > 1 and channel == (campaign.channel or channel):
                    errors.append(f"variants: {seen[said]} and {variant} send the same {channel} message in {locale} "
                                  "(the template reads message.variant to tell them apart)")
                seen.setdefault(said, variant)
    if campaign.send.mode == "local_time" and quiet is not None:
        import datetime as dt

        local = dt.datetime.strptime(campaign.send.local_time, "%Y-%m-%dT%H:%M")
        if quiet.contains(local):
            errors.append(f"send.local_time: {local:%H:%M} is in the quiet hours ({quiet.start:02d}:00-{quiet.end:02d}:00); "
                          "every message would wait until they end")
    return errors
