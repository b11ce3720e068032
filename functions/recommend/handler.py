"""Recommend function: answers strategies from the current Annoy model in S3.

The model is loaded into /tmp once per container (memory-mapped) and replaced when the
``current`` pointer moves (checked at most every 30 s), without a redeploy."""

from __future__ import annotations

from polku import aws_clients
from polku.data import catalog
from polku.data import events as event_table
from polku.observability import logger, tracer
from polku.recommend.model_cache import ModelCache
from polku.recommend.model_store import ModelStore
from polku.recommend.service import recommend
from polku.settings import get_settings
from polku.tracking import profile_store

_cache: ModelCache | None = None


def model_cache() -> ModelCache:
    global _cache
    if _cache is None:
        _cache = ModelCache(ModelStore(aws_clients.client("s3"), get_settings().models_bucket))
    return _cache


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return recommend(event, model_cache().get, event_table.customer_events, catalog.content_for,
                     profile_store.load)
