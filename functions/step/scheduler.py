"""Hourly: enter scheduled journeys (birthday, win-back) for customers whose profile matches.

When nothing is due this hour the tick ends at once. When a journey is due, the profiles table is
read by a scan; with SCHEDULER_SEGMENTS = N > 1 the tick fans out instead: the scheduler invokes
itself asynchronously N times, each invocation reading one segment of a parallel scan, so a large
table is read by N Lambdas at once rather than by one that could run out of time. Every segment
gets the tick's time, so all of them enter the same run ids (journey and day, or hour): a segment
that Lambda retries, or a tick that runs twice, starts nothing twice.

Segment events: ``{"segment": i, "total_segments": N, "when": ISO-8601}`` (0 <= i < N <= 64).
"""

import json

from polku import aws_clients, clock
from polku.journeys import registry
from polku.journeys.triggers import due_journeys, run_schedule, scan_profiles
from polku.observability import JOURNEY_STARTS_REFUSED, count_per, logger, tracer
from polku.settings import get_settings


class SchedulerInputError(ValueError):
    """A segment event the scheduler cannot use (the message names the field)."""


def _segment(event: dict) -> tuple[int, int, object]:
    total = event.get("total_segments")
    segment = event.get("segment")
    if not isinstance(total, int) or isinstance(total, bool) or not 1 <= total <= 64:
        raise SchedulerInputError(f"total_segments: a whole number from 1 to 64, got {total!r}")
    if not isinstance(segment, int) or isinstance(segment, bool) or not 0 <= segment < total:
        raise SchedulerInputError(f"segment: a whole number from 0 to {total - 1}, got {segment!r}")
    try:
        when = clock.parse_iso(event["when"])
    except (KeyError, TypeError, ValueError):
        raise SchedulerInputError(f"when: an ISO-8601 time, got {event.get('when')!r}") from None
    return segment, total, when


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    settings = get_settings()
    sfn = aws_clients.client("stepfunctions")
    journeys = registry.current()
    event = event if isinstance(event, dict) else {}
    if "segment" in event or "total_segments" in event:  # one part of a fanned-out tick
        segment, total, when = _segment(event)
        refused: dict[str, int] = {}
        started = run_schedule(journeys, scan_profiles(segment, total), sfn, settings.state_machine_prefix, when=when,
                               refused=refused)
        count_per(JOURNEY_STARTS_REFUSED, "journey", refused)
        logger.info("scheduled journeys", extra={"started": started, "unreachable": refused, "segment": segment,
                                                 "total_segments": total})
        return {"started": started, "unreachable": refused, "segment": segment, "total_segments": total}
    when = clock.now()
    due = due_journeys(journeys, when)
    total = settings.scheduler_segment_count
    if not due or total == 1:
        refused = {}
        started = run_schedule(journeys, scan_profiles(), sfn, settings.state_machine_prefix, when=when, refused=refused)
        count_per(JOURNEY_STARTS_REFUSED, "journey", refused)
        logger.info("scheduled journeys", extra={"started": started, "unreachable": refused})
        return {"started": started, "unreachable": refused}
    lam = aws_clients.client("lambda")
    tick = clock.to_iso(when)
    for segment in range(total):
        lam.invoke(FunctionName=context.invoked_function_arn, InvocationType="Event",
                   Payload=json.dumps({"segment": segment, "total_segments": total, "when": tick}).encode())
    logger.info("scheduled journeys fanned out", extra={"due": [j.name for j in due], "segments": total})
    return {"due": [j.name for j in due], "segments": total, "when": tick}
