"""The tracking API (Chalice). Thin: parse, call one use case, shape the answer."""

from chalice import BadRequestError, Chalice, Response
from chalice.app import RestAPIEventHandler

from polku.enrollment import service as enrollment
from polku.enrollment.errors import EnrollmentError
from polku.observability import logger
from polku.tracking import http_api

class _AnyAcceptHandler(RestAPIEventHandler):
    def _validate_binary_response(self, request_headers, response_headers) -> bool:
        return True


class _TrackApp(Chalice):
    """Chalice refuses a binary response (the open pixel's GIF) with 400 unless the request's
    Accept header names the type exactly ("image/gif" or "*/*"): a model of API Gateway with a
    narrow BinaryMediaTypes list. Polku's API declares ``*/*`` (template.yaml), so API Gateway
    returns the GIF whatever the Accept header (image/*, none, a mail proxy's list); the check
    is dropped to match. Responses are still base64-encoded by content type (binary_types).
    ``__call__`` is Chalice 1.34's own, with the handler class swapped."""

    def __call__(self, event, context):
        self.lambda_context = context
        handler = _AnyAcceptHandler(self.routes, self.api, self.log, self.debug,
                                    middleware_handlers=self._get_middleware_handlers("http"))
        self.current_request = handler.create_request_object(event, context)
        return handler(event, context)


app = _TrackApp(app_name="polku-track")


def _respond(answer: http_api.HttpAnswer) -> Response:
    return Response(body=answer.body, status_code=answer.status, headers=answer.headers)


@app.route("/v1/health", methods=["GET"])
def health():
    return {"ok": True}


@app.route("/v1/events", methods=["POST"], content_types=["application/json", "text/plain"])
def post_events():
    req = app.current_request
    answer = http_api.post_events(req.raw_body, req.headers, req.query_params)
    logger.info("events", extra={"status": answer.status})
    return _respond(answer)


@app.route("/v1/events", methods=["OPTIONS"])
def preflight_events():
    return _respond(http_api.preflight(app.current_request.headers))


@app.route("/v1/identify", methods=["POST"], content_types=["application/json", "text/plain"])
def post_identify():
    req = app.current_request
    return _respond(http_api.post_identify(req.raw_body, req.headers, _source_ip(), _base_url(), req.query_params))


@app.route("/v1/identify", methods=["OPTIONS"])
def preflight_identify():
    return _respond(http_api.preflight(app.current_request.headers))


@app.route("/v1/content", methods=["POST"], content_types=["application/json", "text/plain"])
def post_content():
    """On-site content for the page's slots (docs/onsite.md)."""
    req = app.current_request
    return _respond(http_api.post_content(req.raw_body, req.headers, req.query_params))


@app.route("/v1/content", methods=["OPTIONS"])
def preflight_content():
    return _respond(http_api.preflight(app.current_request.headers))


@app.route("/v1/server/events", methods=["POST"], content_types=["application/json"])
def post_server_events():
    req = app.current_request
    return _respond(http_api.post_server_events(req.raw_body, req.headers))


@app.route("/v1/server/identify", methods=["POST"], content_types=["application/json"])
def post_server_identify():
    req = app.current_request
    return _respond(http_api.post_server_identify(req.raw_body, req.headers, _source_ip()))


@app.route("/v1/polku.js", methods=["GET"])
def get_tracker():
    return _respond(http_api.get_tracker(app.current_request.headers))


@app.route("/v1/polku-content.js", methods=["GET"])
def get_content_script():
    """tracker.js's content part, loaded on demand by a page with slots (docs/onsite.md)."""
    return _respond(http_api.get_tracker(app.current_request.headers, http_api.CONTENT_SCRIPT))


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


def _base_url():
    """This API's own base URL (for the consent confirmation links when PUBLIC_BASE_URL is empty)."""
    context = app.current_request.context or {}
    if context.get("domainName"):
        return f"https://{context['domainName']}/{context.get('stage', '')}".rstrip("/")
    host = (app.current_request.headers or {}).get("host", "127.0.0.1")
    return f"http://{host}"


@app.route("/v1/consent/confirm/{token}", methods=["GET", "POST"],
           content_types=["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "application/json"])
def consent_confirm(token):
    """The double opt-in link: GET shows what is confirmed and a button, POST confirms."""
    from polku.tracking import consent_delivery

    if app.current_request.method == "POST":
        status, html = consent_delivery.confirm(token)
    else:
        status, html = consent_delivery.confirm_page(token)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def _source_ip():
    identity = (app.current_request.context or {}).get("identity") or {}
    return identity.get("sourceIp")


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
