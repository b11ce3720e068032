"""A segment's members, read by a parallel scan of the twin's profiles table; ``polku segments preview``."""

from __future__ import annotations

import json

import pytest

from polku.campaigns import audience, segments
from polku.cli.main import main
from polku.data.profiles import ProfileModel
from tests.integration.waiting import uid

pytestmark = pytest.mark.twin


def _profiles(tag: str, n: int) -> list[str]:
    """n customers of batch ``tag``: every third has e-mail consent, every other has scored leads."""
    ids = [f"{tag}-{i:03d}" for i in range(n)]
    with ProfileModel.batch_write() as batch:
        for i, cid in enumerate(ids):
            batch.save(ProfileModel(
                cid, traits={"email": f"{cid}@example.com", "batch": tag, "first_name": f"N{i}"},
                consents={"email": {"granted": i % 3 == 0}}, counts={"page_view": i},
                lead_score=40 if i % 2 == 0 else 1, lead_score_at="2026-04-14T00:00:00Z",
                last_seen="2026-04-13T00:00:00Z", time_zone="Europe/Helsinki"))
    return ids


def _segment(tag: str) -> segments.Segment:
    return segments.parse({"name": "preview_test", "all": [
        {"trait": {"name": "batch", "eq": tag}}, {"consent": "email"},
        {"any": [{"lead_score": {"gte": 30}}, {"events": {"type": "page_view", "gte": 25}}]}]})


def expected(ids: list[str]) -> set[str]:
    return {cid for i, cid in enumerate(ids) if i % 3 == 0 and (i % 2 == 0 or i >= 25)}


def test_parallel_scan_finds_exactly_the_members(twin):
    tag = uid("seg")
    ids = _profiles(tag, 40)
    import datetime as dt

    now = dt.datetime(2026, 4, 14, 9, tzinfo=dt.timezone.utc)
    seg = _segment(tag)
    found = set()
    for part in range(4):  # each part is read alone, as one Lambda would
        found |= {p["customer_id"] for p in audience.scan_part(seg, part, 4, now)}
    assert found == expected(ids)
    result = audience.preview(seg, now, parts=3, sample=3)
    assert result.count == len(expected(ids))
    assert [s["customer_id"] for s in result.sample] == sorted(expected(ids))[:3]
    with pytest.raises(ValueError, match="part"):
        list(audience.scan_part(seg, 4, 4, now))


def test_cli_preview_prints_count_and_sample(twin, tmp_path, capsys):
    tag = uid("segcli")
    ids = _profiles(tag, 12)
    doc = {"name": "cli_test", "all": [{"trait": {"name": "batch", "eq": tag}}, {"consent": "email"}]}
    (tmp_path / "cli_test.yaml").write_text(json.dumps(doc))  # JSON is YAML
    rc = main(["--endpoint", twin.api_url, "segments", "preview", "cli_test", "--dir", str(tmp_path), "--sample", "2",
               "--at", "2026-04-14T09:00:00Z"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["count"] == 4 and out["segment"] == "cli_test"
    assert [s["customer_id"] for s in out["sample"]] == [ids[0], ids[3]]
    assert main(["--endpoint", twin.api_url, "segments", "preview", "nope", "--dir", str(tmp_path)]) == 2
    assert "no file nope.yaml" in capsys.readouterr().err
