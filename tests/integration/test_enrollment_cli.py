"""``polku enroll`` against the running twin: grant, link, enrol with a CSV of personal notes."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from polku.cli.main import main
from polku.data.profiles import ProfileModel
from polku.data import enrollments

pytestmark = pytest.mark.twin


def test_cli_enrols_with_per_recipient_notes(twin, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    ids = [f"cli-{run}-{i}" for i in range(3)]
    arn = f"arn:aws:iam::123456789012:user/sales-{run}"
    endpoint = ["--endpoint", twin.api_url]
    assert main(endpoint + ["enroll-grant", arn, "--role", "sales"]) == 0
    for cid in ids:
        ProfileModel(cid, traits={"email": f"{cid}@example.com"}, consents={"email": {"granted": True}}).save()
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("customer_id,intro\n" + "\n".join(f"{c},Thanks {c}!" for c in ids) + "\n")
    capsys.readouterr()
    assert main(endpoint + ["enroll", "nurture", "--customers", str(csv_file), "--role", "sales", "--as", arn]) == 0
    out = capsys.readouterr().out
    assert "3 customers into nurture as sales" in out and "completed: 3 started" in out
    enrollment = re.search(r"^enrolment ([0-9a-f]{20}):", out, re.M).group(1)
    notes = {i.customer_id: json.loads(i.overrides) for i in enrollments.customer_items(enrollment)}
    assert notes == {c: {"intro": f"Thanks {c}!"} for c in ids}

    # A refused request exits non-zero with the field named.
    rc = main(endpoint + ["enroll", "nurture", "--customers", ",".join(ids), "--role", "sales", "--as", arn,
                          "--override", "subject=hi"])
    assert rc == 2
    assert "overrides.subject" in capsys.readouterr().err
    # An ARN without a grant is refused.
    assert main(endpoint + ["enroll", "nurture", "--customers", ids[0], "--as", f"{arn}-nobody"]) == 2
