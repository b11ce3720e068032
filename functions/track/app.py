"""The tracking API (Chalice). Thin: parse, call one use case, shape the answer."""

from chalice import BadRequestError, Chalice, Response

from polku.enrollment import service as enrollment
from polku.enrollment.errors import EnrollmentError
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
    return _not_built(4)


@app.route("/v1/c/{token}", methods=["GET"])
def click(token):
    return _not_built(4)


@app.route("/v1/unsubscribe/{token}", methods=["GET", "POST"])
def unsubscribe(token):
    return _not_built(4)


def _caller_arn():
    identity = (app.current_request.context or {}).get("identity") or {}
    return identity.get("userArn")


def _enrollment_error(exc: EnrollmentError) -> Response:
    return Response(exc.to_body(), status_code=exc.status)


@app.route("/v1/journeys/{journey}/enrollments", methods=["POST"])
def post_enrollments(journey):
    request = app.current_request
    try:
        body = request.json_body if request.raw_body else None
    except BadRequestError:
        return Response({"error": {"field": "body", "reason": "not valid JSON"}}, status_code=400)
    try:
        status, result = enrollment.submit(
            _caller_arn(), journey, body, idempotency_key=(request.headers or {}).get("idempotency-key")
        )
    except EnrollmentError as exc:
        return _enrollment_error(exc)
    return Response(result, status_code=status)


@app.route("/v1/enrollments/{enrollment_id}", methods=["GET"])
def get_enrollment(enrollment_id):
    try:
        return enrollment.progress(_caller_arn(), enrollment_id)
    except EnrollmentError as exc:
        return _enrollment_error(exc)
