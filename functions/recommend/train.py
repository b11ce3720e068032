"""Scheduled training: interactions from the events table -> item embeddings -> Annoy index ->
a versioned model in S3; the ``current`` pointer moves only if the model is valid and not worse."""

from __future__ import annotations

from polku import aws_clients, clock
from polku.data import catalog
from polku.data import events as event_table
from polku.observability import logger, tracer
from polku.recommend.customer_history import WEIGHTS, interactions_from_events
from polku.recommend.model_store import ModelStore
from polku.recommend.pipeline import run_training
from polku.settings import get_settings


def train_from_events(force: bool = False) -> dict:
    settings = get_settings()
    inter = interactions_from_events(event_table.all_events(set(WEIGHTS)))
    outcome = run_training(inter, ModelStore(aws_clients.client("s3"), settings.models_bucket), clock.now_iso(),
                           catalog=catalog.all_content(), force=force)
    logger.info("training finished", extra={"version": outcome.version, "published": outcome.published,
                                            "reason": outcome.reason})
    return outcome.as_dict()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return train_from_events(force=bool((event or {}).get("force", False)))
