"""A direct in-process lane from botocore clients to moto's handlers (behaviour unchanged).

With ``mock_aws`` active every call of a botocore client in this process (the handlers, PynamoDB,
Step Functions tasks, the twin itself) is validated, serialised, has its endpoint resolved, is
signed (SigV4: canonical request, hashes, HMAC chain), prepared, and then handed by moto's
``BotocoreStubber`` to the matching backend after trying the URL against the regular expressions
of every moto backend, one after another; the response is parsed by botocore. A journey
simulation makes about 46 such calls per customer.

For the services in ``SERVICES``, on moto's own AWS URLs, this lane keeps every step that shapes
the request or the response and shortens three that cannot change what moto answers:

* The signature: moto does not check signatures (unless its IAM authentication is switched on,
  which turns the lane off). Each request is still built and prepared by botocore exactly as
  before (URL, body, headers incl. User-Agent and Content-Type) and carries the Authorization
  header's credential scope (access key, date, region, service: moto reads the caller's account
  and, for some services, the region from it), X-Amz-Date and the session token, as SigV4 would
  set them; only the signature itself is a placeholder and the amz-sdk-* retry headers (which
  moto never reads) are left out. Calls that are not plain SigV4 with the client's own
  credentials, or without credentials (botocore's error), take the normal path.
* The WSGI environ of moto's request object: werkzeug's EnvironBuilder works the URL out again
  for every request (IRI quoting, host, port, script root); its URL part is built once per
  method and URL by werkzeug itself, and each request gets a copy with its own body, content
  type and length and HTTP_* headers, in werkzeug's order and spelling (requests without a body,
  or with a form body, are built by werkzeug as before).
* The URL search: the backend handler moto finds for a URL (first matching service pattern, then
  first matching backend URL, in moto's order) is remembered per URL; passthrough and whitelist
  settings are still checked on every call, in moto's order.

For the JSON-protocol services among them (``LIGHT_SERVICES``: DynamoDB, EventBridge, Step
Functions, Secrets Manager; their action comes from X-Amz-Target, not from URL routing) two more
layers are thinner, with the same content: the prepared request is built straight from botocore's
serialised one (the URL, body and headers botocore's preparation gives, header values left as str),
and moto's handler reads a ``LightMotoRequest`` over the same WSGI environ instead of a werkzeug
Request (moto's own ``setup_class`` and parameter parser run unchanged on it; when moto's request
recorder is on, werkzeug's request is built as before). ``POLKU_TWIN_LIGHT_REQUESTS=0`` switches
these two off.

Signing is what botocore's ``request-created`` event does (with adding the amz-sdk-* headers),
so lane requests do not emit it, nor ``before-sign``/``choose-signer``; nothing in Polku listens
there. Everything else is unchanged: parameter validation, serialisation, endpoint rules, the
before-/after-call and before-send events (PynamoDB's extra headers), moto's request object,
dispatch and recorder, botocore's response parser, modeled error fields and retries. A call to a
custom endpoint (the twin's HTTP server, DynamoDB Local) or to another service takes the normal
path. ``POLKU_TWIN_DIRECT=0`` (or ``POLKU_TWIN_PATCHES=off``) switches the lane off (benchmarks compare both); tests compare the
two lanes call by call (tests/integration/test_twin_direct.py).

Measured gain: +20 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches).
"""

from __future__ import annotations

import os
import re
import threading

from polku.twin.patches import disabled

# botocore service names (operation_model.service_model.service_name) the lane serves.
SERVICES = frozenset({
    "dynamodb", "dynamodbstreams", "lambda", "sesv2", "ses", "events", "stepfunctions",
    "secretsmanager", "sqs", "sns", "scheduler",
})

# On unless the switch (POLKU_TWIN_PATCHES, or POLKU_TWIN_DIRECT=0) turns the lane off.
state = {"enabled": "botocore_direct_lane" not in disabled(),
         "calls": 0, "services": {}}  # calls served by the lane, in all and per moto service
_applied = False
_lock = threading.Lock()
_local = threading.local()  # the RequestSigner of the client whose request is being built
_routes: dict[str, object] = {}
_MISS = object()
_MAX_ROUTES = 4096


_counts = threading.local()


def calls_here() -> int:
    """Calls the lane served on this thread (others, e.g. a stream poller, may use it meanwhile)."""
    return getattr(_counts, "n", 0)


def enabled() -> bool:
    return state["enabled"]


def set_enabled(on: bool) -> bool:
    previous = state["enabled"]
    state["enabled"] = bool(on)
    return previous


def _find_handler(clean_url: str):
    """moto's BotocoreStubber.process_request's search: (service, handler, services it matched) or None."""
    import moto.backend_index as backend_index
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    tried = []  # each service whose pattern matched: moto checks passthrough/whitelist for each
    for service, pattern in backend_index.backend_url_patterns:
        if pattern.match(clean_url):
            backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
            if isinstance(backend_dict, BackendDict):
                if "us-east-1" in backend_dict[DEFAULT_ACCOUNT_ID]:
                    backend = backend_dict[DEFAULT_ACCOUNT_ID]["us-east-1"]
                else:
                    backend = backend_dict[DEFAULT_ACCOUNT_ID]["aws"]
            else:
                backend = backend_dict["global"]
            tried.append(service)
            for url, method_to_execute in backend.urls.items():
                if re.compile(url).match(clean_url):
                    light = service in LIGHT_SERVICES and _light_handler(method_to_execute)
                    return service, method_to_execute, tuple(tried), light
            # moto's loop goes on to the next service whose pattern matches
    return None


def _route(url: str):
    route = _routes.get(url, _MISS)
    if route is _MISS:
        from moto.core.utils import get_equivalent_url_in_aws_domain

        parsed_url, _ = get_equivalent_url_in_aws_domain(url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        found = _find_handler(clean_url)
        route = found
        with _lock:
            if len(_routes) >= _MAX_ROUTES:
                _routes.clear()
            _routes[url] = route
    return route


def _usable(operation_model) -> bool:
    if not state["enabled"]:
        return False
    from moto import settings
    from moto.core.models import botocore_stubber

    if not botocore_stubber.enabled or settings.INITIAL_NO_AUTH_ACTION_COUNT != float("inf"):
        return False
    service_model = operation_model.service_model
    if service_model.service_name not in SERVICES:
        return False
    return not operation_model.has_event_stream_output


_UNSIGNED_HEADERS = frozenset({"expect", "user-agent", "x-amzn-trace-id"})  # botocore's blacklist


def _credential_headers(signer, request) -> dict | None:
    """The headers SigV4 would add, with a placeholder signature; None when not plain SigV4."""
    if signer is None or signer.signature_version != "v4":
        return None
    context = request.context
    if context.get("auth_type") not in (None, "v4"):
        return None
    signing = context.get("signing") or {}
    if signing.get("request_credentials") or signing.get("identity_cache") is not None:
        return None
    credentials = signer._credentials
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    if not frozen.access_key:
        return None
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    region = signing.get("region") or signer._region_name
    service = signing.get("signing_name") or signer._signing_name
    headers = {"X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ")}
    if frozen.token:
        headers["X-Amz-Security-Token"] = frozen.token
    names = {k.lower() for k in request.headers} | {k.lower() for k in headers} | {"host"}
    signed = ";".join(sorted(names - _UNSIGNED_HEADERS))
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{now.strftime('%Y%m%d')}/{region}/{service}"
        f"/aws4_request, SignedHeaders={signed}, Signature={'0' * 64}"
    )
    return headers


_clean_urls: dict = {}


def _clean_url(url: str) -> str:
    """moto's clean URL for ``url`` (get_equivalent_url_in_aws_domain: a function of the URL and
    of MOTO_S3_CUSTOM_ENDPOINTS, which is part of the key)."""
    key = (url, os.environ.get("MOTO_S3_CUSTOM_ENDPOINTS"))
    found = _clean_urls.get(key)
    if found is None:
        from moto.core.utils import get_equivalent_url_in_aws_domain

        parsed_url, _ = get_equivalent_url_in_aws_domain(url)
        found = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        with _lock:
            if len(_clean_urls) >= _MAX_ROUTES:
                _clean_urls.clear()
            _clean_urls[key] = found
    return found


def _passthrough(route, url: str) -> bool:
    """moto's checks before it calls the handler, in its order (a whitelist miss raises, as in moto)."""
    from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
    from moto.core.exceptions import ServiceNotWhitelisted

    if passthrough_url(_clean_url(url)):
        return True
    for service in route[2]:
        if passthrough_service(service):
            return True
        if not service_whitelisted(service):
            raise ServiceNotWhitelisted(service)
    return False


def _dispatch(route, request):
    """What BotocoreStubber.process_request does once it has found the handler."""
    from moto.core.exceptions import HTTPException
    from moto.core.request import normalize_request
    from moto.moto_api import recorder

    method_to_execute = route[1]
    if _passthrough(route, request.url):
        return None
    if len(route) > 3 and route[3] and not recorder._user_enabled:
        light = light_moto_request(request.method, request.url, request.headers, request.body)
        if light is not None:
            try:
                status, headers, body = method_to_execute(light, light.raw_url, light.headers)
            except HTTPException as e:
                status = e.code
                headers = e.get_headers()
                body = e.get_body()
            return status, headers, body
    normalized_request = _fast_request(request)
    if normalized_request is None:
        normalized_request = normalize_request(request)
    try:
        recorder._record_request(normalized_request)
        status, headers, body = method_to_execute(
            normalized_request, normalized_request.raw_url, normalized_request.headers
        )
    except HTTPException as e:
        status = e.code
        headers = e.get_headers()
        body = e.get_body()
    return status, headers, body


_templates: dict = {}


def _template(method: str, url: str) -> dict:
    """The environ werkzeug builds for ``method`` and ``url`` with no headers and no body."""
    key = (method, url)
    found = _templates.get(key)
    if found is None:
        from urllib.parse import urlparse

        from werkzeug.test import EnvironBuilder

        parsed = urlparse(url)  # as moto's Request.from_primitives splits it
        builder = EnvironBuilder(method=method, base_url=f"{parsed.scheme}://{parsed.netloc}",
                                 path=parsed.path, query_string=parsed.query, data=b"", headers=[])
        try:
            found = builder.get_environ()
        finally:
            builder.close()
        found.pop("wsgi.input", None)
        with _lock:
            if len(_templates) >= _MAX_ROUTES:
                _templates.clear()
            _templates[key] = found
    return found


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _environ(method: str, url: str, headers, body):
    """The WSGI environ moto's Request.from_primitives would build, or None where werkzeug is needed."""
    import io
    import sys

    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY, environ_key_for_header, \
        should_preserve_original_header_name

    try:
        from botocore.httpchecksum import AwsChunkedWrapper
    except ImportError:  # pragma: no cover - older botocore
        AwsChunkedWrapper = ()
    if isinstance(body, AwsChunkedWrapper) or hasattr(body, "read"):
        return None
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes) or not body:
        return None  # werkzeug's own rules for an empty body
    items = []
    content_type = None
    for key, value in headers.items():
        if key.lower() == "transfer-encoding":
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        value = str(value)
        if "\n" in value or "\r" in value:
            return None  # werkzeug refuses it; let it say so
        items.append((key, value))
    combined: dict = {}
    for key, value in items:
        lower = key.lower()
        if lower == "content-type":
            if content_type is None:
                content_type = value
            continue
        if lower == "content-length":
            continue
        combined.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
    if content_type is not None and content_type.partition(";")[0].strip() in _FORM_TYPES:
        return None
    environ = dict(_template(method, url))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    environ["CONTENT_LENGTH"] = str(len(body))
    for key, values in combined.items():
        environ[key] = ", ".join(values)
    # what from_primitives adds once werkzeug has built the request
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
        environ_key_for_header(key): key for key, _ in items if should_preserve_original_header_name(key)
    }
    return environ


def build_request(method: str, url: str, headers, body):
    """The request moto's Request.from_primitives would build, or None where werkzeug is needed."""
    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY, Request

    environ = _environ(method, url, headers, body)
    if environ is None:
        return None
    preserved = environ.pop(PRESERVED_HEADER_NAMES_ENVIRON_KEY)
    built = Request(environ)  # as EnvironBuilder.get_request; then what from_primitives adds
    built.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
    built.environ.setdefault("CONTENT_LENGTH", "0")
    return built


def _light_handler(method_to_execute) -> bool:
    """Whether moto's handler for a URL is a BaseResponse.dispatch (it reads the request only in setup_class)."""
    from moto.core.responses import BaseResponse

    owner = getattr(method_to_execute, "__self__", None)
    return (isinstance(owner, type) and issubclass(owner, BaseResponse)
            and getattr(method_to_execute, "__func__", None) is BaseResponse.dispatch.__func__
            and owner._dispatch is BaseResponse._dispatch and owner.setup_class is BaseResponse.setup_class)


class LightMotoRequest:
    """What moto's BaseResponse.setup_class and parse_parameters read from its werkzeug Request.

    Built for a JSON request (body bytes, not a form, no Content-Encoding) from the same WSGI
    environ as build_request (so ``headers`` is moto's own EnvironHeaders over it); every other
    attribute is the value werkzeug's Request gives for that environ: the URL parts are taken
    once per method and URL from a real werkzeug Request, ``form``/``files`` are werkzeug's empty
    parameter storage, ``data`` the body. tests/integration/test_twin_direct.py compares each
    attribute with werkzeug's.
    """

    from_wsgi_server = False
    content_encoding = None

    def __init__(self, method, environ, body, url_parts, content_type):
        from werkzeug.datastructures import ImmutableMultiDict

        from moto.core.request import EnvironHeaders

        self.method = method
        self.environ = environ
        self.headers = EnvironHeaders(environ)
        self.data = body
        self.form = ImmutableMultiDict()
        self.files = ImmutableMultiDict()
        self.raw_url, self.raw_path, self.path, self.args = url_parts
        self.content_type = content_type

    @property
    def values(self):
        from werkzeug.datastructures import CombinedMultiDict, MultiDict

        sources = [self.args] if self.method == "GET" else [self.args, self.form]
        return CombinedMultiDict([d if isinstance(d, MultiDict) else MultiDict(d) for d in sources])

    def get_data(self, *args, **kwargs):
        return self.data


_url_parts: dict = {}


def _parts_of(method: str, url: str, template: dict) -> tuple:
    key = (method, url)
    found = _url_parts.get(key)
    if found is None:
        from moto.core.request import Request

        real = Request(dict(template))
        found = (real.raw_url, real.raw_path, real.path, real.args)
        with _lock:
            if len(_url_parts) >= _MAX_ROUTES:
                _url_parts.clear()
            _url_parts[key] = found
    return found


def light_moto_request(method: str, url: str, headers, body):
    """A LightMotoRequest for a JSON request, or None where moto's werkzeug Request is needed."""
    if not light_requests["enabled"]:
        return None
    environ = _environ(method, url, headers, body)
    if environ is None or "HTTP_CONTENT_ENCODING" in environ:
        return None
    content_type = environ.get("CONTENT_TYPE")
    if content_type is None or "json" not in content_type:
        return None
    return LightMotoRequest(method, environ, body if isinstance(body, bytes) else body.encode(),
                            _parts_of(method, url, _template(method, url)), content_type)


def _fast_request(request):
    if not fast_environ["enabled"]:
        return None
    return build_request(request.method, request.url, request.headers, request.body)


fast_environ = {"enabled": True}

# Services whose lane requests skip botocore's AWSRequest and its preparation (see _light_request)
# and moto's werkzeug Request (see LightMotoRequest): their actions come from X-Amz-Target, not URL routing.
LIGHT_SERVICES = frozenset({"dynamodb", "events", "stepfunctions", "secretsmanager"})  # JSON protocol (X-Amz-Target)
light_requests = {"enabled": os.environ.get("POLKU_TWIN_LIGHT_REQUESTS", "1") not in ("0", "false", "no")}


class _Params:
    """What _credential_headers reads from an AWSRequest: its context and headers."""

    __slots__ = ("context", "headers")

    def __init__(self, context, headers):
        self.context = context
        self.headers = headers


def _light_request(route, params, operation_model):
    """The prepared request botocore would build for ``params``, without AWSRequest's machinery.

    For a JSON body (bytes; botocore's JSON serialiser always gives bytes) with no query string,
    botocore's preparation is: the URL as is, the headers copied and encoded to UTF-8, Content-Length
    set to the body's length; with the lane's credential headers added before it (as in
    create_request below). Header values stay str here (moto's request builder decodes bytes
    anyway); the headers are a plain dict in the same order (botocore's is case-insensitive;
    before-send handlers on these services only add headers). Anything else returns None.
    """
    if not light_requests["enabled"] or route[0] not in LIGHT_SERVICES:
        return None
    body = params.get("body")
    if not isinstance(body, bytes) or not body or params.get("query_string"):
        return None
    if operation_model.has_streaming_input or operation_model.has_streaming_output:
        return None
    from botocore.awsrequest import AWSPreparedRequest

    headers = dict(params["headers"])
    if any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        return None
    extra = _credential_headers(getattr(_local, "signer", None), _Params(params.get("context") or {}, headers))
    if extra is None:
        return None
    for name, value in extra.items():  # as request.headers[name] = value: the first spelling's slot
        for existing in headers:
            if existing.lower() == name.lower():
                headers[existing] = value
                break
        else:
            headers[name] = value
    headers["Content-Length"] = str(len(body))
    prepared = AWSPreparedRequest(params["method"], params["url"], headers, body, False, params.get("context"))
    prepared.polku_route = route
    return prepared


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from botocore.awsrequest import AWSResponse, create_request_object
    from botocore.endpoint import Endpoint
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

    original_create_request = Endpoint.create_request

    def create_request(self, params, operation_model=None):
        if operation_model is None or not _usable(operation_model):
            return original_create_request(self, params, operation_model)
        route = _route(params["url"])
        if route is None:
            return original_create_request(self, params, operation_model)
        try:
            passthrough = _passthrough(route, params["url"])
        except Exception:  # noqa: BLE001 - e.g. not whitelisted: moto's stubber says so, as before
            passthrough = True
        if passthrough:
            return original_create_request(self, params, operation_model)
        light = _light_request(route, params, operation_model)
        if light is not None:
            return light
        request = create_request_object(params)
        request.stream_output = operation_model.has_streaming_output  # as Endpoint.create_request
        headers = _credential_headers(getattr(_local, "signer", None), request)
        if headers is None:
            return original_create_request(self, params, operation_model)
        for name, value in headers.items():
            request.headers[name] = value
        prepared = self.prepare_request(request)  # as Endpoint.create_request, without signing
        prepared.polku_route = route  # moto's handler for this URL (see the stubber below)
        return prepared

    Endpoint.create_request = create_request

    from botocore.client import BaseClient

    original_make_request = BaseClient._make_request

    def make_request(self, operation_model, request_dict, request_context):
        previous = getattr(_local, "signer", None)
        _local.signer = self._request_signer
        try:
            return original_make_request(self, operation_model, request_dict, request_context)
        finally:
            _local.signer = previous

    BaseClient._make_request = make_request

    original_call = BotocoreStubber.__call__

    def stubber_call(self, event_name, request, **kwargs):
        route = getattr(request, "polku_route", None)
        if route is None or not self.enabled:
            return original_call(self, event_name, request, **kwargs)
        response = _dispatch(route, request)
        if response is None:  # passthrough (moto's config changed since the request was built)
            return None
        state["calls"] += 1
        _counts.n = getattr(_counts, "n", 0) + 1
        state["services"][route[0]] = state["services"].get(route[0], 0) + 1
        status, headers, body = response
        return AWSResponse(request.url, status, headers, MockRawResponse(body))

    BotocoreStubber.__call__ = stubber_call
