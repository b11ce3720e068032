"""Run the real Lambda handlers in-process inside the local twin.

moto's Lambda needs Docker to run code. The twin registers every function of
template.yaml here (its CodeUri folder and Handler) and patches moto's private
``LambdaFunction._invoke_lambda`` so that an invocation — from ``lambda:Invoke``,
a Step Functions Task, a DynamoDB stream mapping, SNS or S3 — imports the real
handler module and calls it with the event and a Lambda context. Errors come
back the way Lambda reports them (``errorType``/``errorMessage`` with the
function-error flag), so Step Functions Retry/Catch see the real error names.
Asynchronous invocations (``InvocationType=Event``, schedules) are retried and
dead-lettered as Lambda does (:func:`invoke_async`).

Handler modules are loaded from their file under a name unique to their folder
(``polku_fn.<folder>.<module>``), so two functions whose files share a name do
not collide, and each module is imported once per process (a warm container).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

_lock = threading.Lock()
_functions: dict[str, "FunctionSpec"] = {}
_modules: dict[tuple[str, str], Any] = {}
_applied = False
_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("polku_twin_function", default=None)


def current_function() -> str | None:
    """The logical id (template.yaml) of the function whose handler runs in this thread, if any
    (the innermost one when a handler's call runs another function in-process)."""
    return _running.get()


@contextlib.contextmanager
def running_as(logical_id: str):
    """Code in the block counts as ``logical_id``'s (iam_agreement.acting_as: a principal that is not a function)."""
    token = _running.set(logical_id)
    try:
        yield
    finally:
        _running.reset(token)


@dataclass
class FunctionSpec:
    name: str  # the physical function name in the twin
    logical_id: str
    code_dir: Path
    handler: str  # "module.attribute"
    timeout: int = 30
    memory_size: int = 256
    arn: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    dead_letter_arn: str = ""  # the SQS queue of the template's DeadLetterQueue (async invocations)

    def load(self) -> Callable[[Any, Any], Any]:
        module_name, _, attr = self.handler.rpartition(".")
        key = (str(self.code_dir.resolve()), module_name)
        with _lock:
            module = _modules.get(key)
            if module is None:
                path = self.code_dir / (module_name.replace(".", "/") + ".py")
                if not path.is_file():
                    raise FileNotFoundError(f"{self.logical_id}: handler file {path} does not exist")
                unique = f"polku_fn.{self.code_dir.name}.{module_name}"
                spec = importlib.util.spec_from_file_location(unique, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[unique] = module
                spec.loader.exec_module(module)
                _modules[key] = module
        return getattr(module, attr)


class LocalLambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec):
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_size
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def register(spec: FunctionSpec) -> None:
    with _lock:
        _functions[spec.name] = spec


def registered() -> dict[str, FunctionSpec]:
    with _lock:
        return dict(_functions)


def clear() -> None:
    with _lock:
        _functions.clear()


class LambdaKilled(BaseException):
    """Fault injection: raised inside a handler, it stops the handler the way Lambda stops one that
    times out or runs out of memory (no ``except Exception`` clause of the handler runs), and the
    invocation is reported as Lambda reports a time-out (``Sandbox.Timedout``)."""


def invoke(name: str, event: Any) -> tuple[Any, str | None]:
    """Call the function's handler in-process. Returns (result, error_type or None)."""
    spec = _functions.get(name)
    if spec is None:
        raise KeyError(f"no function {name!r} is registered in the local twin")
    token = _running.set(spec.logical_id)
    try:
        handler = spec.load()
        return handler(event, LocalLambdaContext(spec)), None
    except LambdaKilled as exc:
        return {"errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {spec.timeout:.2f} seconds ({exc})"}, "Sandbox.Timedout"
    except Exception as exc:  # the Lambda runtime reports every error the same way
        return {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc),
        }, type(exc).__name__
    finally:
        _running.reset(token)


ASYNC_ATTEMPTS = 3  # an asynchronous invocation and Lambda's two retries


def invoke_async(name: str, event: Any) -> tuple[Any, str | None]:
    """An asynchronous invocation (``InvocationType=Event``, schedules): as Lambda, the handler
    runs again up to twice while it fails (here at once, not after a minute or two), and a
    function with a ``DeadLetterQueue`` gets the event there with Lambda's message attributes
    (``RequestID``, ``ErrorCode``, ``ErrorMessage``). Returns the last (result, error type)."""
    for _ in range(ASYNC_ATTEMPTS):
        result, error = invoke(name, event)
        if error is None:
            return result, None
    spec = _functions.get(name)
    if spec is not None and spec.dead_letter_arn:
        _dead_letter(spec, event, result)
    return result, error


def _dead_letter(spec: FunctionSpec, event: Any, result: Any) -> None:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue = spec.dead_letter_arn.split(":", 5)
    message = result.get("errorMessage", "") if isinstance(result, dict) else str(result)
    sqs_backends[account][region].send_message(
        queue_name=queue,
        message_body=json.dumps(event),
        message_attributes={
            "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},  # the function's own error
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024] or "Unhandled"},
        },
    )


def apply() -> None:
    """Patch moto's Lambda to run registered functions in-process (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    from polku.twin import iam_agreement

    iam_agreement.start_from_environment()  # POLKU_RECORD_IAM=1: note every AWS call per function
    from moto.awslambda.models import LambdaFunction

    def _invoke_lambda(self, event=None):
        if isinstance(event, (bytes, str)):
            event = json.loads(event or "{}")
        if event is None:
            event = {}
        result, error = invoke(self.function_name, event)
        return json.dumps(result, default=str), error is not None, ""

    LambdaFunction._invoke_lambda = _invoke_lambda

    original_invoke = LambdaFunction.invoke

    def function_invoke(self, body, request_headers, response_headers):
        """lambda:Invoke; InvocationType=Event runs as an asynchronous invocation (invoke_async)."""
        if request_headers.get("x-amz-invocation-type") != "Event" or self.function_name not in _functions:
            return original_invoke(self, body, request_headers, response_headers)
        invoke_async(self.function_name, json.loads(body) if body else {})
        return ""  # Lambda accepted it (202): no payload, no function error for the caller

    LambdaFunction.invoke = function_invoke
