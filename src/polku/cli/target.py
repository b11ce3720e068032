"""Where a CLI command acts: the running local twin (default) or a deployed stack (--stack NAME).

Both are described the same way — the stack's Outputs — so commands never hard-code a name.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from polku.settings import Settings

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"

# Output key -> settings field (template.yaml Outputs are the contract).
_OUTPUT_TO_SETTING = {
    "EventsTableName": "events_table",
    "ProfilesTableName": "profiles_table",
    "IdentitiesTableName": "identities_table",
    "MessagesTableName": "messages_table",
    "JourneyStateTableName": "journey_state_table",
    "CatalogTableName": "catalog_table",
    "SuppressionsTableName": "suppressions_table",
    "EnrollmentsTableName": "enrollments_table",
    "ModelsBucketName": "models_bucket",
    "OffersBusName": "offers_bus_name",
    "StateMachinePrefix": "state_machine_prefix",
    "AnalyticsBucketName": "analytics_bucket",
    "CampaignBucketName": "campaign_bucket",
    "SuppressionSaltSecretArn": "suppression_salt_secret_arn",
}


class TargetError(RuntimeError):
    pass


@dataclass
class Target:
    outputs: dict[str, str]
    region: str
    endpoint_url: str | None = None  # None: real AWS
    api_url: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> "Target":
        if getattr(args, "stack", None):
            return cls.from_stack(args.stack)
        return cls.from_twin(getattr(args, "endpoint", None) or os.environ.get("POLKU_ENDPOINT") or DEFAULT_ENDPOINT)

    @classmethod
    def from_twin(cls, endpoint: str) -> "Target":
        url = endpoint.rstrip("/") + "/_polku/twin"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                info = json.load(resp)
        except (urllib.error.URLError, OSError) as exc:
            raise TargetError(
                f"no local twin answers at {endpoint} ({exc}); start one with `polku local` "
                "or name a deployed stack with --stack NAME"
            ) from None
        return cls(
            outputs=info["outputs"],
            region=info["region"],
            endpoint_url=info["aws_endpoint"],
            api_url=info.get("api_url") or endpoint,
            extra=info,
        )

    @classmethod
    def from_stack(cls, name: str) -> "Target":
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            cfn = boto3.client("cloudformation")
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(f"cannot read stack {name!r}: {exc}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return cls(outputs=outputs, region=cfn.meta.region_name, api_url=outputs.get("ApiUrl"))

    def client(self, service: str):
        import boto3

        kwargs = {"region_name": self.region}
        if self.endpoint_url:
            kwargs.update(endpoint_url=self.endpoint_url, aws_access_key_id="twin", aws_secret_access_key="twin")
        return boto3.client(service, **kwargs)

    def settings(self) -> Settings:
        values = {f: self.outputs[k] for k, f in _OUTPUT_TO_SETTING.items() if k in self.outputs}
        return Settings(**values)

    def use(self) -> Settings:
        """Point this process's data adapters (PynamoDB models) at the target; returns its settings."""
        from polku.data.base import bind_models

        settings = self.settings()
        if self.endpoint_url:
            os.environ.update(
                {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": "twin",
                 "AWS_SECRET_ACCESS_KEY": "twin", "AWS_DEFAULT_REGION": self.region}
            )
        bind_models(settings, host=self.endpoint_url)
        return settings
