"""Enrolment errors: raised once in the domain, mapped to HTTP in one place (the Chalice route)."""

from __future__ import annotations


class EnrollmentError(Exception):
    """A request Polku will not carry out. ``field`` names what is wrong, ``reason`` says why."""

    status = 400

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def to_body(self) -> dict:
        return {"error": {"field": self.field, "reason": self.reason}}


class InvalidEnrollment(EnrollmentError):
    """The body is malformed or breaks a rule (too many customers, non-editable block...)."""

    status = 400


class Unauthenticated(EnrollmentError):
    """No verified caller identity (API Gateway's AWS_IAM authoriser did not run or failed)."""

    status = 403


class Forbidden(EnrollmentError):
    """The caller is known but may not do this (role, journey or customer not theirs)."""

    status = 403


class NotFound(EnrollmentError):
    status = 404


class Conflict(EnrollmentError):
    """Same idempotency key, different request."""

    status = 409
