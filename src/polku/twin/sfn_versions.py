"""Step Functions versions and aliases on moto, as AWS runs them.

Journeys are published as state machine versions behind an alias ``live``
(:mod:`polku.journeys.publish`): new runs start on the alias, a running execution keeps the
version it started on. moto 5.2.5 stores versions (``publish=True``) and aliases, but cannot run
them:

* StartExecution on a **version** ARN (``...:stateMachine:NAME:3``) deep-copies the version,
  which has no backend (AttributeError), and would keep the execution on the version, where
  DescribeExecution, ListExecutions, StopExecution and SendTask* on the state machine never find it;
* StartExecution on an **alias** ARN (``...:stateMachine:NAME:live``) is StateMachineDoesNotExist.

``apply()`` makes moto do what AWS does: a version shares its state machine's execution list and
backend (so an execution started on it is found through the state machine, its execution ARN is
``execution:NAME:RUN`` as on AWS, and it runs the version's own definition); an alias ARN starts
the version its routing configuration names (weights honoured); DescribeExecution reports the
unqualified ``stateMachineArn`` and, as AWS does, ``stateMachineVersionArn`` and
``stateMachineAliasArn``. Test: tests/integration/test_journey_publish.py (versions, aliases,
a run that waits on v1 while v2 is published). Not emulated: ListExecutions on a version or alias
ARN lists all the state machine's executions (AWS filters them), and versions are never deleted.
"""

from __future__ import annotations

import random
import threading

_applied = False
_lock = threading.Lock()


def _split(arn: str) -> tuple[str, str | None]:
    """``arn:aws:states:R:A:stateMachine:NAME[:QUALIFIER]`` -> (unqualified ARN, qualifier or None)."""
    parts = arn.split(":")
    if len(parts) == 8 and parts[5] == "stateMachine":
        return ":".join(parts[:7]), parts[7]
    return arn, None


def _pick(routing: list[dict]) -> str:
    """The version an alias routes one new execution to (weights in percent, as on AWS)."""
    if len(routing) == 1:
        return routing[0]["stateMachineVersionArn"]
    r = random.uniform(0, sum(int(x.get("weight", 0)) for x in routing))
    for x in routing:
        r -= int(x.get("weight", 0))
        if r <= 0:
            return x["stateMachineVersionArn"]
    return routing[-1]["stateMachineVersionArn"]


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        _applied = True
    from moto.stepfunctions import responses as responses_mod
    from moto.stepfunctions.models import StateMachine, StateMachineVersion
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    orig_publish = StateMachine.publish

    def publish(self, description):
        orig_publish(self, description)
        version = self.latest_version
        version.executions = self.executions  # one execution list: found through the state machine
        version.backend = self.backend

    StateMachine.publish = publish
    # StartExecution asks the machine it runs whether a run of that name exists (the shared list)
    StateMachineVersion._handle_name_input_idempotency = StateMachine._handle_name_input_idempotency

    orig_start = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        base_arn, qualifier = _split(state_machine_arn)
        if qualifier is None:
            return orig_start(self, state_machine_arn, name, execution_input, trace_header)
        alias_arn = None
        if not qualifier.isdigit():
            alias = self.describe_state_machine_alias(state_machine_arn)
            alias_arn = alias.arn
            state_machine_arn = _pick(alias.routing_configuration)
        execution = orig_start(self, state_machine_arn, name, execution_input, trace_header)
        execution.state_machine_arn = base_arn
        execution.state_machine_version_arn = state_machine_arn
        execution.state_machine_alias_arn = alias_arn
        return execution

    StepFunctionsParserBackend.start_execution = start_execution

    orig_describe = responses_mod.StepFunctionResponse.describe_execution

    def describe_execution(self):
        result = orig_describe(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        body = getattr(result, "result", None)
        if isinstance(body, dict):
            for key, attr in (("stateMachineVersionArn", "state_machine_version_arn"),
                              ("stateMachineAliasArn", "state_machine_alias_arn")):
                if getattr(execution, attr, None):
                    body[key] = getattr(execution, attr)
        return result

    responses_mod.StepFunctionResponse.describe_execution = describe_execution
