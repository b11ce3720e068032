import copy

import pytest
import yaml

from polku.journeys import registry
from polku.journeys.conditions import matches
from polku.journeys.registry import RegistryError, parse

BASE = {"version": 1, "journeys": {"j_one": {"description": "d", "trigger": {"event": "add_to_cart"}}}}


def with_entry(**changes):
    data = copy.deepcopy(BASE)
    data["journeys"]["j_one"].update(changes)
    return data


def test_repository_registry_loads_and_covers_every_definition():
    reg = registry.load()
    assert set(reg.journeys) == {"welcome", "abandoned_cart", "browse_abandonment", "cross_sell", "birthday",
                                 "event_invitation", "nurture", "win_back", "location_offer"}
    assert reg.get("abandoned_cart").goal == ("purchase",)
    assert reg.get("birthday").trigger.scheduled and reg.get("birthday").trigger.due(
        __import__("datetime").datetime(2026, 1, 1, 8))
    assert "sales" in reg.get("event_invitation").enrollable_by


@pytest.mark.parametrize("changes, field", [
    ({"description": ""}, "description"),
    ({"trigger": {}}, "trigger"),
    ({"trigger": {"event": "x", "schedule": "daily"}}, "trigger"),
    ({"trigger": {"schedule": "weekly", "profile": {"a": 1}}}, "trigger.schedule"),
    ({"trigger": {"schedule": "daily"}}, "trigger.profile"),
    ({"trigger": {"schedule": "daily", "at": "9am", "profile": {"a": 1}}}, "trigger.at"),
    ({"trigger": {"event": "x", "where": {"properties.a": {"between": 1}}}}, "trigger.where"),
    ({"reentry": "sometimes"}, "reentry.policy"),
    ({"reentry": {"policy": "cooldown"}}, "reentry.cooldown_hours"),
    ({"split": {"A": 0.5, "B": 0.6}}, "split"),
    ({"holdout": 1.5}, "holdout"),
    ({"active": "yes"}, "active"),
    ({"enrollable_by": ["janitor"]}, "enrollable_by"),
    ({"goal": "purchase"}, "goal"),
    ({"goal": ["add_to_cart"]}, "goal"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_entries_name_journey_and_field(changes, field):
    with pytest.raises(RegistryError) as err:
        parse(with_entry(**changes))
    assert "'j_one'" in str(err.value) and f"field {field}:" in str(err.value)


def test_bad_top_level_and_duplicate_files_are_rejected():
    with pytest.raises(RegistryError):
        parse({"journeys": {}})
    data = with_entry()
    data["journeys"]["j_two"] = dict(data["journeys"]["j_one"], file="j_one.asl.json")
    with pytest.raises(RegistryError, match="already used"):
        parse(data)


def test_only_activates_the_simulated_journey():
    reg = registry.load()
    inactive = registry.Registry({n: registry._replace(j, active=False) for n, j in reg.journeys.items()})
    only = inactive.only("nurture")
    assert [j.name for j in only.active()] == ["nurture"]
    with pytest.raises(RegistryError):
        reg.only("nope")


def test_registry_yaml_is_plain_yaml_marketers_can_edit():
    data = yaml.safe_load(registry.default_path().read_text())
    assert data["version"] == 1


@pytest.mark.parametrize("obj, cond, expected", [
    ({"properties": {"total": 12}}, {"properties.total": {"gte": 10}}, True),
    ({"properties": {"total": 9}}, {"properties.total": {"gte": 10}}, False),
    ({"properties": {"total": "12"}}, {"properties.total": {"gt": 10, "lt": 13}}, True),
    ({"properties": {}}, {"properties.store_id": {"exists": True}}, False),
    ({"properties": {"store_id": "s"}}, {"properties.store_id": {"exists": True}}, True),
    ({"properties": {"form_id": "lead"}}, {"properties.form_id": {"in": ["lead", "download"]}}, True),
    ({"properties": {"form_id": "x"}}, {"properties.form_id": {"not_in": ["lead"]}}, True),
    ({"properties": {"form_id": "x"}}, {"properties.form_id": "x"}, True),
    ({"properties": {"n": "abc"}}, {"properties.n": {"gt": 1}}, False),
    ({}, {"a.b": {"ne": 1}}, False),
])
def test_conditions(obj, cond, expected):
    assert matches(obj, cond) is expected
