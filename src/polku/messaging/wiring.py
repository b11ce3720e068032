"""Builds the real adapters for the send and feedback functions (once per warm container)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from polku import aws_clients
from polku.messaging.link_secret import key_ring
from polku.messaging.links import LinkSigner
from polku.messaging import sending_pause
from polku.messaging.recommend_client import fetch_recommendations
from polku.messaging.templating import TemplateStore
from polku.settings import Settings, get_settings
from polku.tracking import profile_store



client = aws_clients.client  # (the one factory; kept under this name for the adapters built here)


def repo_templates_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "templates"


@lru_cache(maxsize=4)
def template_store(templates_dir: str = "") -> TemplateStore:
    """The TemplatesLayer (``TEMPLATES_DIR``, /opt in Lambda); in a source checkout or the
    local twin, where /opt holds no templates, the repository's ``templates/``."""
    for candidate in (templates_dir, str(repo_templates_dir())):
        if candidate and (Path(candidate) / "_layouts").is_dir():
            return TemplateStore(candidate)
    raise FileNotFoundError(f"no Polku templates in TEMPLATES_DIR={templates_dir!r} or {repo_templates_dir()}")


def link_base_url(settings: Settings) -> str:
    return (settings.public_base_url or settings.api_base_url or "http://127.0.0.1:8000").rstrip("/")


def link_signer(settings: Settings | None = None) -> LinkSigner:
    settings = settings or get_settings()
    return LinkSigner(key_ring(settings.link_secret_arn, client), link_base_url(settings))


def send_policy(settings: Settings) -> tuple:
    """(FrequencyCaps, QuietHours) from the settings (``FREQUENCY_CAP_PER_DAY``/``_PER_WEEK``,
    ``QUIET_HOURS_START``/``_END``); a bad value raises SettingsError naming it."""
    from polku.messaging.send_policy import FrequencyCaps
    from polku.messaging.send_time import QuietHours

    per_day, per_week = settings.frequency_caps
    start, end = settings.quiet_hours
    return FrequencyCaps(per_day=per_day, per_week=per_week), QuietHours(start=start, end=end)


def send_deps(settings: Settings | None = None):
    from polku.messaging.send_message import SendDeps
    from polku.messaging.ses_sender import SesSender
    from polku.messaging.sns_sender import SnsSender
    from polku.messaging.webhook_sender import WebhookSender

    settings = settings or get_settings()
    caps, quiet = send_policy(settings)
    return SendDeps(
        templates=template_store(settings.templates_dir),
        signer=lambda: link_signer(settings),
        load_profile=lambda cid: profile_store.load(cid),
        email=SesSender(client("sesv2"), settings.ses_configuration_set),
        sms_push=SnsSender(client("sns")),
        webhook=WebhookSender(client("events"), settings.messages_bus_name or "default"),
        recommend=lambda request, cid: fetch_recommendations(
            client("lambda"), settings.recommend_function_name, request, cid, int(request.get("count", 4))
        ),
        sender_email=settings.sender_email or "hello@example.com",
        caps=caps,
        quiet=quiet,
        load_events=_customer_events,
        load_products=_catalog_content,
        paused=sending_pause.paused_reason,
    )


def _customer_events(customer_id: str, anonymous_ids: list) -> list:
    """The customer's latest events and those of their linked anonymous ids (the cart a message
    shows is folded from them; journey_data sorts them by time)."""
    from polku.data import events as event_table

    out = []
    for subject in [f"c#{customer_id}", *(f"a#{a}" for a in anonymous_ids)]:
        out.extend(event_table.latest_of_subject(subject, 200))
    return out


def _catalog_content(product_ids: list) -> dict:
    from polku.data import catalog

    return catalog.content_for(product_ids)
