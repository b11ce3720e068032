"""Issue #20 point 6: enrollable_by admits partners only when it names them (pure)."""

import pytest

from polku.enrollment.errors import Forbidden
from polku.enrollment.roles import Caller, JourneyPolicy, check_journey
from polku.journeys.registry import RegistryError, parse

ACME = Caller("arn:aws:iam::1:user/acme", frozenset({"partner"}), "acme")
OTHER = Caller("arn:aws:iam::1:user/other", frozenset({"partner"}), "other")


def _policy(*roles):
    return JourneyPolicy("j", frozenset({"marketing", *roles}))


@pytest.mark.parametrize("roles", [("sales",), ("sales", "service"), ()])
def test_no_journey_admits_partners_implicitly(roles):
    with pytest.raises(Forbidden) as err:
        check_journey("partner", _policy(*roles), ACME)
    assert err.value.field == "journey"


def test_partner_role_and_named_partner_groups():
    check_journey("partner", _policy("sales", "partner"), ACME)
    check_journey("partner", _policy("partner"), OTHER)
    named = _policy("sales", "partner:acme")
    check_journey("partner", named, ACME)
    with pytest.raises(Forbidden):
        check_journey("partner", named, OTHER)
    with pytest.raises(Forbidden):  # a sales caller is not let in by a partner group
        check_journey("sales", _policy("partner:acme"), Caller("arn:s", frozenset({"sales"})))


def _registry_with(roles):
    return parse({"version": 1, "journeys": {"nurture": {"description": "d", "trigger": {"event": "add_to_cart"},
                                                         "enrollable_by": roles}}})


def test_registry_accepts_partner_and_named_partners_only():
    assert _registry_with(["sales", "partner", "partner:acme"]).get("nurture").enrollable_by == (
        "sales", "partner", "partner:acme")
    for bad in (["partner:"], ["partners"], ["partner:a b"]):
        with pytest.raises(RegistryError) as err:
            _registry_with(bad)
        assert "enrollable_by" in str(err.value)
