"""The tracking API (Chalice). Thin: parse, call one use case, shape the answer."""

from chalice import Chalice, Response

from polku.observability import logger
from polku.tracking.ingest import ingest

app = Chalice(app_name="polku-track")


@app.route("/v1/health", methods=["GET"])
def health():
    return {"ok": True}


@app.route("/v1/events", methods=["POST"], content_types=["application/json", "text/plain"])
def post_events():
    body = app.current_request.json_body if app.current_request.raw_body else None
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        return Response({"error": {"field": "events", "reason": "must be a list"}}, status_code=400)
    result = ingest(events, site_key=body.get("site_key"))
    logger.info("ingested", extra={"accepted": len(result.accepted), "rejected": len(result.rejected)})
    status = 400 if result.rejected and not (result.accepted or result.duplicates) else 200
    return Response(
        {"accepted": result.accepted + result.duplicates, "rejected": result.rejected},
        status_code=status,
    )


def _not_built(issue: int):
    return Response({"error": f"not built yet (issue #{issue})"}, status_code=501)


@app.route("/v1/identify", methods=["POST"])
def post_identify():
    return _not_built(3)


@app.route("/v1/polku.js", methods=["GET"])
def get_tracker():
    return _not_built(3)


@app.route("/v1/o/{token}", methods=["GET"])
def open_pixel(token):
    from polku.messaging import link_actions

    return _link_response(link_actions.open_pixel(_signer(), token))


@app.route("/v1/c/{token}", methods=["GET"])
def click(token):
    from polku.messaging import link_actions

    return _link_response(link_actions.click(_signer(), token))


@app.route(
    "/v1/unsubscribe/{token}",
    methods=["GET", "POST"],
    content_types=["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "application/json"],
)
def unsubscribe(token):
    from polku.messaging import link_actions

    if app.current_request.method == "POST":  # RFC 8058 one-click, or the page's button
        return _link_response(link_actions.unsubscribe(_signer(), token))
    return _link_response(link_actions.unsubscribe_page(_signer(), token, action_path=""))


def _link_response(result) -> Response:
    return Response(body=result.body, status_code=result.status, headers=result.headers)


def _signer():
    from polku.messaging.wiring import link_signer

    return link_signer()


@app.route("/v1/journeys/{journey}/enrollments", methods=["POST"])
def post_enrollments(journey):
    return _not_built(7)


@app.route("/v1/enrollments/{enrollment_id}", methods=["GET"])
def get_enrollment(enrollment_id):
    return _not_built(7)
