"""What every delivery adapter returns or raises."""

from __future__ import annotations

from dataclasses import dataclass

TRANSIENT_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable",
        "ServiceUnavailableException", "InternalFailure", "InternalServerError", "InternalError",
        "RequestTimeout", "RequestTimeoutException", "LimitExceededException", "KMSThrottlingException",
    }  # fmt: skip
)


@dataclass(frozen=True)
class Delivered:
    provider: str  # "ses" | "sns" | "webhook"
    provider_id: str


class DeliveryError(Exception):
    """Delivery failed. ``transient`` errors (the provider refused the message: sending again is
    safe) are retried by Step Functions, with backoff; permanent ones are recorded and never
    retried. ``ambiguous`` errors (the request may have reached the provider: a read time-out,
    a connection closed mid-answer) are never retried either: recorded as ``unknown``."""

    def __init__(self, message: str, *, transient: bool, code: str = "", ambiguous: bool = False):
        super().__init__(message)
        self.transient = transient and not ambiguous
        self.code = code
        self.ambiguous = ambiguous


class TransientDeliveryError(Exception):
    """Raised out of the send step so the journey's Retry (with backoff) tries again."""


def from_client_error(exc: Exception, what: str) -> DeliveryError:
    """Map a botocore error to a DeliveryError."""
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        transient = code in TRANSIENT_CODES or status >= 500 or status == 429
        return DeliveryError(f"{what}: {code}: {exc.response.get('Error', {}).get('Message', '')}", transient=transient, code=code)
    if isinstance(exc, BotoConnectionError):  # no connection was made: the provider never saw it
        return DeliveryError(f"{what}: {exc}", transient=True, code=type(exc).__name__)
    if isinstance(exc, HTTPClientError):  # read time-out, connection closed: it may have been accepted
        return DeliveryError(f"{what}: {exc}", transient=False, ambiguous=True, code=type(exc).__name__)
    return DeliveryError(f"{what}: {exc}", transient=False, code=type(exc).__name__)


def no_resend_after_sending(client, *operations: str) -> None:
    """Stop botocore from sending ``operations`` again after an ambiguous error.

    botocore's retries (standard mode) repeat a request after a read time-out or a connection
    closed mid-answer; for a message the provider may already have accepted that is a second
    message. Throttling and 5xx answers (refused: safe to repeat) are still retried by botocore;
    an ambiguous error reaches the send step at once and is recorded ``unknown``."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:  # not a botocore client (a test's fake)
        return
    service = client.meta.service_model.service_id.hyphenize()
    for operation in operations:
        event = f"needs-retry.{service}.{operation}"
        events.register_first(event, _refuse_ambiguous_retry, unique_id=f"polku-no-resend:{event}")


def _refuse_ambiguous_retry(caught_exception=None, **_kwargs):
    from botocore.exceptions import HTTPClientError

    if isinstance(caught_exception, HTTPClientError):
        raise caught_exception  # out of botocore's retry loop, to the sender (mapped to ambiguous)
