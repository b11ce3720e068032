"""One Logger, Tracer and Metrics for every Polku function (Powertools)."""

from __future__ import annotations

from typing import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from polku.settings import get_settings

_settings = get_settings()

logger = Logger(service=_settings.powertools_service_name, level=_settings.log_level)
tracer = Tracer(service=_settings.powertools_service_name, disabled=_settings.stage == "local")
metrics = Metrics(namespace=_settings.powertools_metrics_namespace, service=_settings.powertools_service_name)

JOURNEY_STARTS_REFUSED = "JourneyStartsRefused"  # runs not started: no consented channel reaches the customer


def count_per(name: str, dimension: str, counts: Mapping[str, int]) -> None:
    """Emit metric ``name`` at once, one data point per value of ``dimension`` holding its count
    (e.g. JourneyStartsRefused per journey): one EMF line each, beside the function's own metrics."""
    for value, n in sorted(counts.items()):
        if n:
            with single_metric(name=name, unit=MetricUnit.Count, value=n,
                               namespace=_settings.powertools_metrics_namespace,
                               default_dimensions={"service": _settings.powertools_service_name, dimension: value}):
                pass
