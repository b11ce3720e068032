"""Campaign throughput on the twin (issue #18, 5): recipients per second through the path
``polku campaigns send`` starts — the campaign state machine (audience by parallel scan, waves in S3,
the Distributed Map, the Send function per batch) — against the raw Send baseline measured in the
same run: the same Send handler called directly with the same batches (what the Distributed Map
hands it), for an audience of the same size on the same twin.

Both send to customers in Helsinki at 10:00 local time (no quiet-hours deferral), on a virtual
clock. Writes its section of docs/benchmarks.md. The twin's speed, not AWS's: on AWS the map runs
children in parallel (MaxConcurrency) and SES sets the pace.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from report import cpu_model, write_section  # noqa: E402

from polku import clock  # noqa: E402

N = 300  # recipients per measurement
REPEATS = 3
BATCH = 50  # as the campaign's ItemBatcher hands them to Send
AT = "2026-04-14T07:00:00Z"  # 10:00 in Helsinki


def _audience(tag: str, n: int) -> list[str]:
    from polku.data.profiles import ProfileModel

    ids = [f"{tag}-{i:05d}" for i in range(n)]
    with ProfileModel.batch_write() as batch:
        for i, cid in enumerate(ids):
            batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com", "batch": tag, "first_name": f"N{i}"},
                                    consents={"email": {"granted": True}}, time_zone="Europe/Helsinki", locale="en",
                                    last_seen="2026-04-01T00:00:00Z"))
    return ids


def _campaign(tag: str):
    from polku.campaigns import definition, segments

    seg = segments.parse({"name": f"seg_{tag}", "all": [{"trait": {"name": "batch", "eq": tag}}, {"consent": "email"}]})
    camp = definition.parse({"name": f"c_{tag}", "segment": seg.name, "template": "spring_newsletter",
                             "channel": "email", "send": {"at": AT}})
    return camp, seg


def _sent(camp) -> int:
    from polku.data.messages import MessageModel

    return sum(1 for m in MessageModel.by_journey.query(camp.journey) if m.status == "sent")


def bench_campaign(twin, n: int = N) -> dict:
    """The campaign state machine, from StartExecution to its end."""
    from polku.campaigns import fanout

    tag = "bc" + uuid.uuid4().hex[:8]
    _audience(tag, n)
    camp, seg = _campaign(tag)
    sfn = twin.client("stepfunctions")
    body = fanout.start_input(camp, seg, "bench", AT)
    t0 = time.perf_counter()
    arn = sfn.start_execution(stateMachineArn=twin.outputs["CampaignStateMachineArn"], name=f"{camp.name}-bench",
                              input=json.dumps(body))["executionArn"]
    while (d := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    if d["status"] != "SUCCEEDED":
        raise RuntimeError(f"the campaign run ended {d['status']}: {d.get('error')} {d.get('cause', '')[:300]}")
    sent = _sent(camp)
    if sent != n:
        raise RuntimeError(f"the campaign sent {sent} of {n}")
    return {"sent": sent, "wall_s": wall, "per_s": sent / wall}


def bench_raw_send(twin, n: int = N) -> dict:
    """The Send handler called directly with the same batches (no state machine)."""
    from polku.twin import lambda_runtime

    tag = "br" + uuid.uuid4().hex[:8]
    ids = _audience(tag, n)
    camp, _ = _campaign(tag)
    name = twin.names["SendFunction"]
    batches = [{"action": "campaign_batch", "Items": [{"customer_id": cid, "variant": "A"} for cid in ids[i:i + BATCH]],
                "BatchInput": {"campaign": camp.to_dict(), "run_id": "bench", "send_at": AT}}
               for i in range(0, n, BATCH)]
    t0 = time.perf_counter()
    for event in batches:
        result, error = lambda_runtime.invoke(name, event)
        if error:
            raise RuntimeError(f"Send failed: {result}")
    wall = time.perf_counter() - t0
    sent = _sent(camp)
    if sent != n:
        raise RuntimeError(f"the raw Send sent {sent} of {n}")
    return {"sent": sent, "wall_s": wall, "per_s": sent / wall}


def _median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["per_s"])[len(runs) // 2]


def main() -> None:
    import logging

    from polku.settings import get_settings
    from polku.twin.twin import Twin

    logging.disable(logging.CRITICAL)
    twin = Twin(REPO / "template.yaml").start()
    get_settings.cache_clear()
    vc = clock.VirtualClock(dt.datetime(2026, 4, 14, 7, 0, tzinfo=dt.timezone.utc))
    previous = clock.set_clock(vc)
    out = sys.stdout
    sys.stdout = sys.stderr  # the handlers print metrics and logs
    try:
        bench_raw_send(twin, BATCH)  # warm: handler modules, templates, clients
        raws, campaigns = [], []
        for _ in range(REPEATS):  # alternated, so both see the same state of the machine
            raws.append(bench_raw_send(twin))
            campaigns.append(bench_campaign(twin))
        raw, campaign = _median(raws), _median(campaigns)
    finally:
        sys.stdout = out
        clock.set_clock(previous)
        twin.stop()
    ratio = campaign["per_s"] / raw["per_s"]
    body = "\n".join([
        f"Measured by `benchmarks/campaign_throughput.py` ({cpu_model()}; medians of {REPEATS} runs, {N} recipients each, batches of "
        f"{BATCH}, e-mail at 10:00 local time). The campaign path is what `polku campaigns send` starts: the "
        "campaign state machine in the twin's Step Functions interpreter (audience by parallel scan of the "
        "profiles table, waves in S3, the Distributed Map, the Send function per batch). The baseline is the same "
        "Send handler called directly with the same batches, in the same run.",
        "",
        "| What | Figure |",
        "| --- | --- |",
        f"| Raw Send, batches of {BATCH} (baseline) | {raw['per_s']:,.0f} recipients/s |",
        f"| Campaign through the state machine | {campaign['per_s']:,.0f} recipients/s ({campaign['wall_s']:.1f} s for {N}) |",
        f"| Campaign / raw Send | {ratio:.2f} |",
        "",
        "The difference is the state machine's own work on the twin (the scan, the S3 objects, the map run and its "
        "children) around the same Send calls. This is the twin's speed; on AWS the children run in parallel "
        "(MaxConcurrency) and SES's sending rate sets the pace (docs/cost.md prices it).",
    ])
    write_section("Campaign throughput", body)
    print(f"raw Send {raw['per_s']:.0f}/s, campaign {campaign['per_s']:.0f}/s, ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
