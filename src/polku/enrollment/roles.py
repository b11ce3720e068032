"""Who may enrol whom into which journey (pure).

* marketing — any journey, any customer;
* sales, service — journeys whose ``enrollable_by`` names their role, any customer;
* partner — journeys whose ``enrollable_by`` names ``partner`` (every partner) or
  ``partner:<partner id>`` (that partner), and only customers linked to that partner.
  Nothing admits partners implicitly: ``enrollable_by: [sales]`` keeps them out.

A caller (an IAM principal) is granted one or more roles; a request names the role
it acts in, which must be one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from polku.enrollment.errors import Forbidden, InvalidEnrollment

ROLES = ("marketing", "sales", "service", "partner")

_ASSUMED_ROLE = re.compile(r"^arn:(?P<part>[^:]+):sts::(?P<acct>\d+):assumed-role/(?P<role>[^/]+)/.+$")


def principal_arn(caller_arn: str) -> str:
    """The IAM identity behind a caller ARN: an assumed-role session maps to its role ARN
    (``arn:aws:sts::1:assumed-role/R/s`` -> ``arn:aws:iam::1:role/R``); users stay as they are."""
    m = _ASSUMED_ROLE.match(caller_arn or "")
    if m:
        return f"arn:{m['part']}:iam::{m['acct']}:role/{m['role']}"
    return caller_arn


@dataclass(frozen=True)
class Caller:
    arn: str
    roles: frozenset[str]
    partner_id: str | None = None


@dataclass(frozen=True)
class JourneyPolicy:
    name: str
    enrollable_by: frozenset[str] = field(default_factory=lambda: frozenset({"marketing"}))
    editable_blocks: frozenset[str] = frozenset()


def choose_role(caller: Caller, requested: str | None) -> str:
    """The role this request acts in."""
    if requested is None:
        if len(caller.roles) == 1:
            return next(iter(caller.roles))
        raise InvalidEnrollment("role", f"required: this caller may act as {sorted(caller.roles)}")
    if requested not in ROLES:
        raise InvalidEnrollment("role", f"must be one of {list(ROLES)}, got {requested!r}")
    if requested not in caller.roles:
        raise Forbidden("role", f"{caller.arn} may not act as {requested} (granted: {sorted(caller.roles) or 'none'})")
    return requested


def partner_group(partner_id: str) -> str:
    """The ``enrollable_by`` entry that opens a journey to one named partner."""
    return f"partner:{partner_id}"


def check_journey(role: str, policy: JourneyPolicy, caller: Caller | None = None) -> None:
    if role == "marketing":
        return
    if role == "partner" and caller is not None and caller.partner_id \
            and partner_group(caller.partner_id) in policy.enrollable_by:
        return
    if role not in policy.enrollable_by:
        raise Forbidden(
            "journey",
            f"{policy.name} is not open to {role} enrolment (enrollable by {sorted(policy.enrollable_by)})",
        )


def check_customers(role: str, caller: Caller, customer_ids: list[str], linked: set[str]) -> None:
    """Partners may only enrol their own customers; ``linked`` is the subset of
    ``customer_ids`` linked to the caller's partner id."""
    if role != "partner":
        return
    if not caller.partner_id:
        raise Forbidden("role", f"{caller.arn} acts as partner but has no partner id")
    for index, cid in enumerate(customer_ids):
        if cid not in linked:
            raise Forbidden(
                f"customers[{index}]",
                f"customer {cid!r} is not linked to partner {caller.partner_id!r}",
            )
