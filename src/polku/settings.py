"""Typed settings, read once from the Lambda environment.

Field names are the lower-cased ``Environment`` keys of template.yaml (a test
checks that they agree). Nothing else in Polku reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import os
from functools import lru_cache


@dataclasses.dataclass(frozen=True)
class Settings:
    stage: str = "local"
    log_level: str = "INFO"
    powertools_service_name: str = "polku"
    powertools_metrics_namespace: str = "Polku"
    events_table: str = "polku-local-events"
    profiles_table: str = "polku-local-profiles"
    identities_table: str = "polku-local-identities"
    messages_table: str = "polku-local-messages"
    journey_state_table: str = "polku-local-journey-state"
    catalog_table: str = "polku-local-catalog"
    suppressions_table: str = "polku-local-suppressions"
    enrollments_table: str = "polku-local-enrollments"
    models_bucket: str = "polku-local-models-123456789012"
    allowed_origins: str = ""
    site_keys: str = ""
    link_secret_arn: str = ""
    # Trust (#16): the identity key ring (identity tokens), the server API key ring, the sites that opt in
    # to unverified identify, the sites whose web consents need confirming (double opt-in), SMS countries.
    identity_secret_arn: str = ""
    server_key_secret_arn: str = ""
    suppression_salt_secret_arn: str = ""  # the salt of the suppression list's address hashes
    unverified_identify_sites: str = ""
    consent_confirmation_sites: str = "*"
    sms_calling_codes: str = "358"
    rate_limits_table: str = "polku-local-rate-limits"
    enrollment_queue_url: str = ""
    state_machine_prefix: str = ""
    journey_registry_bucket: str = ""  # the published journey registry (registry.yaml; polku.journeys.publish)
    offers_bus_name: str = ""
    sales_bus_name: str = ""  # the nurture hand-over to sales (LeadHandedToSales) for a CRM
    offers_webhook_url: str = ""
    sender_email: str = ""
    ses_configuration_set: str = ""
    public_base_url: str = ""
    recommend_function_name: str = ""
    templates_dir: str = ""
    api_base_url: str = ""
    analytics_bucket: str = ""
    campaign_bucket: str = ""  # campaign audiences and results (privacy rewrites them)
    messages_bus_name: str = ""
    lead_score_rules: str = ""
    # Send: quiet hours (local hours; equal start and end = none) and frequency caps across journeys.
    quiet_hours_start: str = "21"
    quiet_hours_end: str = "8"
    frequency_cap_per_day: str = "2"
    frequency_cap_per_week: str = "5"
    # Scheduler: parallel scan segments of the profiles table when scheduled journeys are due.
    scheduler_segments: str = "1"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values = {}
        for f in dataclasses.fields(cls):
            key = f.name.upper()
            if key in env:
                values[f.name] = env[key]
        return cls(**values)

    @property
    def allowed_origin_list(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def site_key_list(self) -> list[str]:
        return [k.strip() for k in self.site_keys.split(",") if k.strip()]

    @property
    def unverified_identify_site_list(self) -> list[str]:
        return [k.strip() for k in self.unverified_identify_sites.split(",") if k.strip()]

    @property
    def consent_confirmation_site_list(self) -> list[str]:
        """Site keys whose e-mail/SMS consents given on the web wait for a confirmation link; ``*`` = all."""
        return [k.strip() for k in self.consent_confirmation_sites.split(",") if k.strip()]

    @property
    def sms_calling_code_list(self) -> list[str]:
        """Country calling codes (without +) whose numbers may get SMS, e.g. ``358,46``."""
        codes = [c.strip().lstrip("+") for c in self.sms_calling_codes.split(",") if c.strip()]
        for c in codes:
            if not (c.isdigit() and 1 <= len(c) <= 3):
                raise SettingsError(f"SMS_CALLING_CODES: {c!r} is not a country calling code (1-3 digits)")
        return codes

    @property
    def quiet_hours(self) -> tuple[int, int]:
        """(start, end) local hours of quiet time; equal hours mean no quiet hours."""
        return (_int_setting("QUIET_HOURS_START", self.quiet_hours_start, 0, 23),
                _int_setting("QUIET_HOURS_END", self.quiet_hours_end, 0, 23))

    @property
    def frequency_caps(self) -> tuple[int, int]:
        """(per day, per week): marketing messages per customer across all journeys."""
        per_day = _int_setting("FREQUENCY_CAP_PER_DAY", self.frequency_cap_per_day, 1, 100)
        per_week = _int_setting("FREQUENCY_CAP_PER_WEEK", self.frequency_cap_per_week, 1, 700)
        if per_week < per_day:
            raise SettingsError(f"FREQUENCY_CAP_PER_WEEK: must be at least FREQUENCY_CAP_PER_DAY ({per_day}), got {per_week}")
        return per_day, per_week

    @property
    def scheduler_segment_count(self) -> int:
        """How many parallel scan segments (one scheduler invocation each) read the profiles
        table when scheduled journeys are due; 1 reads it in the scheduler's own invocation."""
        return _int_setting("SCHEDULER_SEGMENTS", self.scheduler_segments, 1, 64)


class SettingsError(ValueError):
    """A setting has a value Polku cannot use; the message names the setting."""


def _int_setting(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{name}: must be a whole number from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be from {low} to {high}, got {value}")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (read once, like a warm Lambda container)."""
    return Settings.from_env()
