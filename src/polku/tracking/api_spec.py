"""The tracking API as OpenAPI 3.1, generated from the event schema (published beside it).

Regenerate with ``python -m polku.tracking.api_spec``; a unit test fails when the
file in ``schema/openapi.json`` is stale.
"""

from __future__ import annotations

import json

from polku.tracking import event_schema

SPEC_FILE = "schema/openapi.json"

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["field", "reason"],
                             "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
}
_RESULT = {
    "type": "object",
    "required": ["accepted", "duplicates", "rejected", "retry"],
    "properties": {
        "accepted": {"type": "array", "items": {"type": "string"}},
        "duplicates": {"type": "array", "items": {"type": "string"}},
        "retry": {"type": "array", "items": {"type": "string"}},
        "rejected": {"type": "array", "items": {
            "type": "object", "required": ["index", "field", "reason"],
            "properties": {"index": {"type": "integer"}, "event_id": {"type": "string"},
                           "field": {"type": "string"}, "reason": {"type": "string"},
                           "conflict": {"type": "boolean", "description": "the event_id is taken by a different event"}}}},
    },
}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": ref}}}


def openapi() -> dict:
    batch = event_schema.json_schema()
    defs = batch.pop("$defs")
    batch.pop("$schema"), batch.pop("$id")
    batch["properties"]["events"]["items"] = {"$ref": "#/components/schemas/Event"}
    event = json.loads(json.dumps(defs["event"]))
    err = {"description": "The request as a whole is refused", "content": _json("#/components/schemas/Error")}
    body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}},
                                          "text/plain": {"schema": {"$ref": "#/components/schemas/Batch"}}}}
    identify = {"type": "object", "required": ["customer_id"], "additionalProperties": False,
                "properties": {"site_key": {"type": "string"}, "event_id": {"type": "string"},
                               "anonymous_id": {"type": "string"}, "customer_id": {"type": "string"},
                               "ts": {"type": "string", "format": "date-time"},
                               "traits": {"type": "object"}, "context": {"type": "object"},
                               "identity_token": {"type": "string", "pattern": "^[0-9]{1,12}\\.[0-9a-f]{64}$",
                                                  "description": "<expires>.<HMAC-SHA256 hex> minted by the shop's "
                                                                 "backend (docs/privacy.md); required on POST /v1/identify "
                                                                 "unless the site opted in to unverified identify"}}}
    server = {"description": "X-Polku-Server-Key missing", "content": _json("#/components/schemas/Error")}
    content = {"type": "object", "required": ["slots"], "additionalProperties": False,
               "properties": {"site_key": {"type": "string"}, "anonymous_id": {"type": "string"},
                              "customer_id": {"type": "string"}, "identity_token": {"type": "string"},
                              "slots": {"type": "array", "minItems": 1, "maxItems": 8, "items": {
                                  "type": "object", "required": ["name"], "additionalProperties": False,
                                  "properties": {"name": {"type": "string"}, "product_id": {"type": "string"},
                                                 "count": {"type": "integer", "minimum": 1, "maximum": 12}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Polku tracking API", "version": "1",
                 "description": "See docs/events.md. Site key in the body (site_key) or header X-Polku-Site-Key."},
        "paths": {
            "/v1/events": {
                "post": {
                    "summary": "Ingest a batch of up to 100 events (256 kB); each event is validated on its own.",
                    "requestBody": body,
                    "responses": {
                        "200": {"description": "At least one event accepted", "content": _json("#/components/schemas/IngestResult")},
                        "400": {"description": "Nothing accepted (per-event reasons), or a bad body",
                                "content": {"application/json": {"schema": {"oneOf": [
                                    {"$ref": "#/components/schemas/IngestResult"}, {"$ref": "#/components/schemas/Error"}]}}}},
                        "403": err, "413": err,
                        "409": {"description": "Nothing accepted; an event_id is taken by a different event (rejected[].field == event_id)",
                                "content": _json("#/components/schemas/IngestResult")},
                        "503": {"description": "Nothing stored; retry the events listed", "content": _json("#/components/schemas/IngestResult")},
                    },
                },
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed origin"}, "403": err}},
            },
            "/v1/identify": {
                "post": {
                    "summary": "Link an anonymous id to a customer and record traits.",
                    "requestBody": {"required": True, "content": _json("#/components/schemas/Identify")},
                    "responses": {"200": {"description": "Linked", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"event_id": {"type": "string"}, "customer_id": {"type": "string"},
                                                         "linked": {"type": "boolean"}, "duplicate": {"type": "boolean"}}}}}},
                        "400": err, "403": {"description": "Unknown site key or origin; identity_token missing, "
                                                           "expired or invalid (error.field names it)",
                                            "content": _json("#/components/schemas/Error")},
                        "409": err, "429": err, "503": err},
                },
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed origin"}, "403": err}},
            },
            "/v1/server/events": {
                "post": {
                    "summary": "The shop's backend: events of any type (purchases, unsubscribes); header X-Polku-Server-Key.",
                    "requestBody": {"required": True, "content": _json("#/components/schemas/Batch")},
                    "responses": {
                        "200": {"description": "At least one event accepted", "content": _json("#/components/schemas/IngestResult")},
                        "400": {"description": "Nothing accepted (per-event reasons), or a bad body",
                                "content": {"application/json": {"schema": {"oneOf": [
                                    {"$ref": "#/components/schemas/IngestResult"}, {"$ref": "#/components/schemas/Error"}]}}}},
                        "401": server, "403": err, "413": err,
                        "409": {"description": "An event_id is taken by a different event", "content": _json("#/components/schemas/IngestResult")},
                        "503": {"description": "Nothing stored; retry the events listed", "content": _json("#/components/schemas/IngestResult")},
                    },
                },
            },
            "/v1/server/identify": {
                "post": {
                    "summary": "The shop's backend: a customer's traits and consents (no identity token); header X-Polku-Server-Key.",
                    "requestBody": {"required": True, "content": _json("#/components/schemas/Identify")},
                    "responses": {"200": {"description": "Recorded"}, "400": err, "401": server, "403": err,
                                  "409": err, "503": err},
                },
            },
            "/v1/content": {
                "post": {
                    "summary": "On-site content for the page's slots: products with signed links, the visitor's web "
                               "cards (docs/onsite.md). A customer's content needs their identity_token.",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": content},
                                                                  "text/plain": {"schema": content}}},
                    "responses": {"200": {"description": "The slots' content", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"slots": {"type": "object"}, "personal": {"type": "boolean"}}}}}},
                        "400": err, "403": {"description": "Unknown site key or origin; identity_token missing, expired "
                                                           "or invalid (error.field names it)",
                                            "content": _json("#/components/schemas/Error")}, "413": err, "429": err},
                },
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed origin"}, "403": err}},
            },
            "/v1/polku.js": {"get": {"summary": "The browser tracker", "responses": {
                "200": {"description": "JavaScript", "content": {"application/javascript": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified (ETag)"}}}},
        },
        "components": {"schemas": {"Batch": batch, "Event": event, "Identify": identify,
                                   "IngestResult": _RESULT, "Error": _ERROR}},
    }


def render() -> str:
    return json.dumps(openapi(), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    from pathlib import Path

    out = Path(__file__).with_name("schema") / "openapi.json"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
