"""A local stand-in for API Gateway (REST API v1) in front of the Chalice app.

Routes come from the template's ``Api`` events (path, method, authorizer): the
same list SAM deploys. Each request becomes a v1 proxy event and is handed to
the function's real handler in-process. Routes with ``Authorizer: AWS_IAM``
need a valid SigV4 signature by a principal registered with the twin
(:meth:`LocalApi.add_principal`); anything else gets 403 as on AWS.
Paths under ``/_polku/`` describe and drive the twin itself (``POST /_polku/principals``
issues SigV4 keys for an IAM ARN, the local stand-in for IAM users; ``GET /_polku/shop`` is the
demo's shop page, :mod:`polku.twin.demo_shop`).

SigV4 is checked as API Gateway checks it: the credential scope must name the API's
region and the service ``execute-api``, the date of ``X-Amz-Date``, and the signature
must match (a ``us-east-1`` signature sent to an API in ``eu-west-1`` is refused).

Binary payloads follow the API's ``BinaryMediaTypes`` (template.yaml, ``~1`` for ``/``) as
REST API v1 applies them to a Lambda proxy integration: a request body whose
``Content-Type`` matches is passed base64-encoded (``isBase64Encoded``); a response the
function base64-encoded is decoded only when the request's *first* ``Accept`` media type
matches (``*/*`` in the list matches every request, with or without ``Accept``),
otherwise the base64 text itself is sent, as API Gateway does.

The rate-based rules of the WAF web ACL the template associates with the API (per client IP,
per site key on the public routes) are enforced before a request reaches its function
(:mod:`polku.twin.waf_rate_rules`: the rules' limits, windows, scope and 429 response).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from polku import clock as polku_clock
from polku.twin import lambda_runtime

if TYPE_CHECKING:  # pragma: no cover
    from polku.twin.twin import Twin


@dataclass(frozen=True)
class Principal:
    access_key: str
    secret_key: str
    arn: str


class LocalApi:
    def __init__(self, twin: "Twin", host: str = "127.0.0.1", port: int = 8000):
        self.twin = twin
        self.host = host
        self.routes = twin.template.api_routes()
        self.principals: dict[str, Principal] = {}
        self.stage = twin.parameters["Stage"]
        self.region = twin.region  # the region SigV4 scopes must name
        self.binary_media_types = binary_media_types(twin.template)
        from polku.twin.waf_rate_rules import RateRules

        self.rate_rules = RateRules.from_template(twin.template, twin.resolver.resolve)
        api = self

        class Handler(_RequestHandler):
            local_api = api

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="polku-twin-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add_principal(self, access_key: str, secret_key: str, arn: str) -> None:
        self.principals[access_key] = Principal(access_key, secret_key, arn)

    # ------------------------------------------------------------------
    def route(self, method: str, path: str):
        allowed = []
        for r in self.routes:
            params = r.match(path)
            if params is None:
                continue
            if r.method == method or r.method == "ANY":
                return r, params, allowed
            allowed.append(r.method)
        return None, None, allowed

    def verify_sigv4(self, method: str, url: str, headers: dict, body: bytes) -> Principal | None:
        """Check an AWS SigV4 signature against a registered principal: scope
        ``<date>/<this API's region>/execute-api/aws4_request``, as API Gateway does."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        auth = headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return None
        try:
            fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 ") :].split(","))
            access_key, date, region, service, terminator = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (KeyError, ValueError):
            return None
        principal = self.principals.get(access_key)
        amz_date = headers.get("x-amz-date", "")
        if principal is None or service != "execute-api" or region != self.region or terminator != "aws4_request":
            return None
        if not amz_date.startswith(date):
            return None
        req = AWSRequest(method=method, url=url, data=body, headers={h: headers.get(h, "") for h in signed})
        req.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(principal.access_key, principal.secret_key), service, region)
        canonical = signer.canonical_request(req)
        string_to_sign = signer.string_to_sign(req, canonical)
        expected = signer.signature(string_to_sign, req)
        import hmac

        return principal if hmac.compare_digest(expected, signature) else None


class _RequestHandler(BaseHTTPRequestHandler):
    local_api: LocalApi
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, a kept-alive client's
    # delayed ACK held every answer about 40 ms (TCP_NODELAY, as API Gateway's front ends answer).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet; the handlers log with Powertools
        pass

    def _send(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if isinstance(v, list):
                for item in v:
                    self.send_header(k, str(item))
            else:
                self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def do_OPTIONS(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def _handle(self) -> None:
        api = self.local_api
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if split.path.startswith("/_polku/"):
            return self._control(split.path, body)
        route, params, allowed = api.route(self.command, split.path)
        if route is None:
            if allowed:
                return self._json(405, {"message": f"Method {self.command} not allowed; allowed: {sorted(set(allowed))}"})
            return self._json(403, {"message": "Missing Authentication Token"})  # what API Gateway says
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(split.query, keep_blank_values=True)
        blocked = api.rate_rules.check(api.stage, split.path, self.client_address[0], query)  # WAF, before the API
        if blocked is not None:
            return self._send(blocked.status, blocked.headers, blocked.body)
        identity = {"sourceIp": self.client_address[0], "userAgent": headers.get("user-agent")}
        if route.authorizer == "AWS_IAM":
            principal = api.verify_sigv4(self.command, f"{api.url}{self.path}", headers, body)
            if principal is None:
                return self._json(403, {"message": "Missing or invalid SigV4 signature (AWS_IAM)"})
            identity.update({"accessKey": principal.access_key, "userArn": principal.arn, "caller": principal.arn})
        multi_headers: dict[str, list[str]] = {}
        for k, v in self.headers.items():
            multi_headers.setdefault(k, []).append(v)
        is_binary = bool(body) and media_type_matches(headers.get("content-type"), api.binary_media_types)
        event = {
            "resource": route.path,
            "path": split.path,
            "httpMethod": self.command,
            "headers": dict(self.headers.items()),
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": self.command,
                "path": f"/{api.stage}{split.path}",
                "stage": api.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": identity,
                "apiId": "local",
            },
            "body": base64.b64encode(body).decode() if is_binary else (body.decode("utf-8", "replace") if body else None),
            "isBase64Encoded": is_binary,
        }
        fn_name = api.twin.names[route.function]
        result, error = lambda_runtime.invoke(fn_name, event)
        if error or not isinstance(result, dict) or "statusCode" not in result:
            return self._json(502, {"message": "Internal server error"})
        out_headers: dict = dict(result.get("headers") or {})
        for k, vs in (result.get("multiValueHeaders") or {}).items():
            out_headers[k] = vs
        raw = result.get("body") or ""
        binary_out = result.get("isBase64Encoded") and media_type_matches(
            first_accept(headers.get("accept")), api.binary_media_types)
        payload = base64.b64decode(raw) if binary_out else raw.encode("utf-8")
        self._send(int(result["statusCode"]), out_headers, payload)

    def _control(self, path: str, body: bytes) -> None:
        api = self.local_api
        clk = polku_clock.get_clock()
        if path == "/_polku/twin" and self.command == "GET":
            return self._json(200, api.twin.describe())
        if path == "/_polku/shop" and self.command == "GET":  # the demo's shop page (docs/onsite.md)
            from polku.twin import demo_shop

            return self._send(200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
                              demo_shop.page(api.url, urlsplit(self.path).query))
        if path == "/_polku/clock" and self.command == "GET":
            return self._json(200, {"now": polku_clock.now_iso(), "virtual": bool(getattr(clk, "virtual", False))})
        if path == "/_polku/clock/advance" and self.command == "POST":
            if not getattr(clk, "virtual", False):
                return self._json(409, {"message": "the twin runs on the real clock; start it with --virtual-clock"})
            try:
                seconds = float(json.loads(body or b"{}")["seconds"])
            except (KeyError, ValueError, TypeError):
                return self._json(400, {"message": "body must be JSON with a number field 'seconds'"})
            clk.advance(seconds)
            return self._json(200, {"now": polku_clock.now_iso()})
        if path == "/_polku/principals" and self.command == "POST":
            # Local stand-in for IAM: issue SigV4 keys for a principal ARN (the twin is no security boundary).
            try:
                arn = str(json.loads(body or b"{}")["arn"])
            except (KeyError, ValueError, TypeError):
                return self._json(400, {"message": "body must be JSON with a field 'arn'"})
            key = "AKTWIN" + uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:14].upper()
            secret = uuid.uuid5(uuid.NAMESPACE_OID, arn + str(id(api))).hex
            api.add_principal(key, secret, arn)
            return self._json(200, {"arn": arn, "access_key": key, "secret_key": secret})
        return self._json(404, {"message": f"no twin control endpoint {self.command} {path}"})


def binary_media_types(template) -> tuple[str, ...]:
    """The ``BinaryMediaTypes`` of the template's REST APIs (``image~1gif`` -> ``image/gif``)."""
    found: list[str] = []
    for res in template.of_type("AWS::Serverless::Api").values():
        for t in (res.get("Properties") or {}).get("BinaryMediaTypes") or []:
            found.append(str(t).replace("~1", "/").lower())
    return tuple(dict.fromkeys(found))


def first_accept(accept: str | None) -> str | None:
    """The first media type of an ``Accept`` header (the one API Gateway looks at), without parameters."""
    if not accept:
        return None
    return accept.split(",")[0].split(";")[0].strip().lower() or None


def media_type_matches(media_type: str | None, binary_types) -> bool:
    """Whether ``media_type`` is one of ``binary_types`` (which may hold ``type/*`` or ``*/*``)."""
    if "*/*" in binary_types:
        return True
    if not media_type:
        return False
    mt = media_type.split(";")[0].strip().lower()
    major = mt.split("/")[0]
    return mt in binary_types or f"{major}/*" in binary_types
