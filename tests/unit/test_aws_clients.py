"""One AWS client factory (polku.aws_clients): product code gets its boto3 clients there and nowhere else."""

from __future__ import annotations

import ast
from pathlib import Path

from polku import aws_clients

REPO = Path(__file__).resolve().parents[2]
# Dev-side code (the twin, the CLI's own clients per target, testing helpers, the demo, the simulator's
# twin clients) builds clients for other endpoints on purpose.
DEV = ("src/polku/twin/", "src/polku/cli/", "src/polku/testing/", "src/polku/demo/", "src/polku/journeys/simulate.py")


def test_one_client_per_service_until_reset(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws_clients.reset("sqs", "sns")
    try:
        sqs, sns = aws_clients.client("sqs"), aws_clients.client("sns")
        assert aws_clients.client("sqs") is sqs and sqs is not sns
        assert sqs.meta.config.retries["mode"] == "standard"
        aws_clients.reset("sqs")
        assert aws_clients.client("sqs") is not sqs and aws_clients.client("sns") is sns
        aws_clients.reset()
        assert aws_clients.client("sns") is not sns
    finally:
        aws_clients.reset("sqs", "sns")  # clients of this test's environment must not serve a later twin


def _client_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [n.lineno for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("client", "resource")
            and isinstance(n.func.value, ast.Name) and n.func.value.id in ("boto3", "session")]


def test_product_code_asks_the_factory_for_clients():
    found = []
    for path in sorted([*(REPO / "src" / "polku").rglob("*.py"), *(REPO / "functions").rglob("*.py")]):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(DEV) or rel == "src/polku/aws_clients.py":
            continue
        found += [f"{rel}:{line}" for line in _client_calls(path)]
    assert not found, f"boto3 clients made outside polku.aws_clients: {found}"
