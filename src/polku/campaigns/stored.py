"""What a campaign run leaves in the CampaignBucket under ``campaigns/<name>/<run>/``: its audience
(``parts/NNN.json`` and ``waves/NNN.json``, lists of ``{customer_id, variant, send_at}``) and the
Distributed Map's results (``results/<map run>/*.json``, the batches' inputs and outputs). Privacy
reads and rewrites them here: an erased customer leaves every audience (a redrive of the run never
reaches them) and is scrubbed from the results."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

PREFIX = "campaigns/"


def documents(s3, bucket: str) -> Iterator[tuple[str, Any]]:
    """(key, parsed JSON) of every JSON object under ``campaigns/``."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".json"):
                yield obj["Key"], json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())


def is_audience(doc: Any) -> bool:
    """An audience part or wave: a list of members, each with its customer id."""
    return isinstance(doc, list) and all(isinstance(m, dict) and "customer_id" in m for m in doc)


def find(s3, bucket: str, select: Callable[[Any], bool]) -> list[dict]:
    """The audience members and result entries ``select`` picks, each with the file it is in."""
    found = []
    for key, doc in documents(s3, bucket):
        for entry in doc if isinstance(doc, list) else [doc]:
            if select(entry):
                found.append({"file": key, "item": entry})
    return found


def rewrite(s3, bucket: str, leaves: Callable[[dict], bool], scrub: Callable[[Any], Any]) -> dict:
    """Drop the audience members ``leaves`` picks; pass every other document through ``scrub`` (a
    document it returns changed is written back). The counts of members removed and files rewritten."""
    counts = {"members_removed": 0, "files": 0}
    for key, doc in documents(s3, bucket):
        if is_audience(doc):
            new = [m for m in doc if not leaves(m)]
            counts["members_removed"] += len(doc) - len(new)
        else:
            new = scrub(doc)
        if new != doc:
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(new, separators=(",", ":")).encode(),
                          ContentType="application/json")
            counts["files"] += 1
    return counts
