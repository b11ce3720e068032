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
