"""The acceptance suite covers every shipped journey: each registry entry has its outcome module."""

from pathlib import Path


def test_every_journey_in_the_registry_has_an_outcome_module():
    from polku.journeys.registry import load

    here = Path(__file__).parent
    missing = [name for name in sorted(load().journeys) if not (here / f"test_{name}_outcomes.py").is_file()]
    assert missing == [], f"journeys without acceptance outcomes: {missing}"
