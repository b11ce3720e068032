"""Asks the recommend function for products (tolerant: any failure gives an empty list,
and the message renders its fallback block instead)."""

from __future__ import annotations

import json
from typing import Any

from polku.observability import logger


def fetch_recommendations(client, function_name: str, request: dict[str, Any], customer_id: str, count: int = 4) -> list[dict]:
    if not function_name:
        return []
    payload = {"customer_id": customer_id, "count": count, **request}
    try:
        out = client.invoke(FunctionName=function_name, Payload=json.dumps(payload).encode("utf-8"))
        body = json.loads(out["Payload"].read() or b"null")
        if out.get("FunctionError"):
            raise RuntimeError(f"{body.get('errorType')}: {body.get('errorMessage')}" if isinstance(body, dict) else str(body))
    except Exception as exc:  # tolerant by design: the message still goes out
        logger.warning("recommendations unavailable; rendering the fallback block", extra={"error": str(exc)[:300]})
        return []
    if isinstance(body, dict):
        body = body.get("products") or body.get("recommendations") or body.get("items") or []
    return [p for p in body if isinstance(p, dict)] if isinstance(body, list) else []
