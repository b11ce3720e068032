"""Call the enrolment API as an IAM principal: requests signed with SigV4 (service execute-api).

Used by ``polku enroll``, the demo and the tests. Credentials come from the caller
(boto3's usual chain for a deployed stack; keys registered with the twin locally).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass
class ApiResponse:
    status: int
    body: dict

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class EnrollmentClient:
    def __init__(self, api_url: str, credentials: Credentials | None, region: str, timeout: float = 300):
        self.api_url = api_url.rstrip("/")
        self.credentials = credentials
        self.region = region
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: dict | None = None, headers: dict | None = None) -> ApiResponse:
        url = self.api_url + path
        data = json.dumps(payload).encode("utf-8") if payload is not None else b""
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        request = AWSRequest(method=method, url=url, data=data, headers=hdrs)
        if self.credentials is not None:
            SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(url, data=data if method != "GET" else None, method=method,
                                     headers=dict(prepared.headers.items()))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"raw": raw.decode("utf-8", "replace")}
        return ApiResponse(status, body)

    def enroll(self, journey: str, customers: list, role: str | None = None, overrides: dict | None = None,
               idempotency_key: str | None = None, properties: dict | None = None) -> ApiResponse:
        payload: dict = {"customers": customers}
        if role:
            payload["role"] = role
        if overrides:
            payload["overrides"] = overrides
        if properties:
            payload["properties"] = properties
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", f"/v1/journeys/{journey}/enrollments", payload, headers)

    def progress(self, enrollment_id: str) -> ApiResponse:
        return self._call("GET", f"/v1/enrollments/{enrollment_id}")
