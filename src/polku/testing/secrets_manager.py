"""Secrets Manager for contract tests that run the Chalice app outside the twin (over DynamoDB
Local): moto's server on a free local port, with the template's generated secrets, reached
through botocore's service endpoint variable (``AWS_ENDPOINT_URL_SECRETS_MANAGER``).

    with SecretsManagerServer(["IdentitySecret", "ServerApiKeySecret"]) as sm:
        sm.arns["IdentitySecret"]  # set IDENTITY_SECRET_ARN to it
"""

from __future__ import annotations

import json
import os
import secrets
import socket

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_SECRETS_MANAGER"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SecretsManagerServer:
    def __init__(self, names: list[str]):
        self.names = names
        self.arns: dict[str, str] = {}
        self._server = None
        self._saved: str | None = None

    def __enter__(self) -> "SecretsManagerServer":
        import boto3
        from moto.server import ThreadedMotoServer

        port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self._saved = os.environ.get(ENDPOINT_VARIABLE)
        os.environ[ENDPOINT_VARIABLE] = self.endpoint_url
        client = boto3.client("secretsmanager", endpoint_url=self.endpoint_url, region_name="eu-west-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        for name in self.names:  # as the template generates them: {"active": "k1", "k1": <48 characters>}
            value = json.dumps({"active": "k1", "k1": secrets.token_urlsafe(36)})
            self.arns[name] = client.create_secret(Name=name, SecretString=value)["ARN"]
        self.client = client
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is None:
            os.environ.pop(ENDPOINT_VARIABLE, None)
        else:
            os.environ[ENDPOINT_VARIABLE] = self._saved
        self._server.stop()
