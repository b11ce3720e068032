"""Make moto's Step Functions interpreter follow Polku's shared clock.

moto 5.2.5 runs each execution in its own thread and waits in wall time. These
patches route every place where the interpreter waits or reads the time through
:mod:`polku.clock` (the list below):

* Wait states (``Seconds``/``SecondsPath``/``Timestamp``/``TimestampPath``),
* Retry intervals,
* ``.waitForTaskToken`` time-outs (TimeoutSeconds) and SendTaskSuccess/Failure,
* execution threads (counted as actors of the virtual clock),
* execution history timestamps.

With the real clock installed every patched place behaves as moto did.
Known limit: Map and Parallel branches run in threads of their own that are not
counted as actors; a Wait inside them under a virtual clock is not supported.
"""

from __future__ import annotations

import copy

import datetime as _dt
import threading

from polku import clock as polku_clock

_applied = False


class _ClockTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def sleep(self, seconds: float) -> None:
        polku_clock.get_clock().sleep(seconds)

    def __getattr__(self, name):  # pragma: no cover - passthrough
        import time

        return getattr(time, name)



class _ClockThreading:
    """Stands in for the ``threading`` module inside moto's interpreter: its threads keep their
    creator's clock (:class:`polku.clock.ClockThread`)."""

    Thread = polku_clock.ClockThread

    def __getattr__(self, name):
        return getattr(threading, name)


def apply() -> None:
    """Install the patches (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback as cb_mod,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        timestamp as ts_mod,
        wait_function as wf_mod,
    )
    from moto.stepfunctions.parser.asl.eval import environment as env_mod
    from moto.stepfunctions.parser.asl.eval.callback import callback as callback_mod
    from moto.stepfunctions.parser.asl.eval.event import event_manager as em_mod
    from moto.stepfunctions.parser.backend import execution_worker as ew_mod
    from moto.stepfunctions.parser.utils import TMP_THREADS

    # Environments and callback endpoints get events that wake clock sleepers.
    orig_env_init = env_mod.Environment.__init__

    def env_init(self, *args, **kwargs):
        orig_env_init(self, *args, **kwargs)
        self.program_state_event = polku_clock.ClockEvent()

    env_mod.Environment.__init__ = env_init

    # StopExecution must also end a task-token wait at once (the virtual clock runs tasks inline,
    # so nothing else would wake the waiting thread before its TimeoutSeconds).
    orig_set_stop = env_mod.Environment.set_stop

    def set_stop(self, stop_date, cause, error):
        orig_set_stop(self, stop_date, cause, error)
        if not polku_clock.get_clock().virtual:
            return
        # Release the waiting task with a neutral outcome: an error here would let the task's
        # error handling turn the stopped (ABORTED) run into a FAILED one.
        pool = getattr(self.callback_pool_manager, "_pool", {})
        for endpoint in list(pool.values()):
            if endpoint.get_outcome() is None:
                endpoint.notify(callback_mod.CallbackOutcomeSuccess(callback_id=endpoint.callback_id,
                                                                    output='{"stopped": true}'))

    env_mod.Environment.set_stop = set_stop

    orig_cb_init = callback_mod.CallbackEndpoint.__init__

    def cb_init(self, *args, **kwargs):
        orig_cb_init(self, *args, **kwargs)
        self._notify_event = polku_clock.ClockEvent()

    callback_mod.CallbackEndpoint.__init__ = cb_init

    def cb_wait(self, timeout=None):
        polku_clock.get_clock().wait(self._notify_event, timeout)
        return self._outcome

    callback_mod.CallbackEndpoint.wait = cb_wait

    # Wait states.
    def wait_interval(self, env, wait_seconds):
        if wait_seconds > 0:
            polku_clock.get_clock().wait(env.program_state_event, wait_seconds)

    wf_mod.WaitFunction._wait_interval = wait_interval

    class _ClockDatetime:
        """``datetime`` stand-in inside timestamp.py: ``datetime.datetime.now()`` reads the clock."""

        class datetime(_dt.datetime):  # noqa: N801 - mimics the module attribute
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                value = polku_clock.now()
                return value.astimezone(tz) if tz else value.replace(tzinfo=None)

        def __getattr__(self, name):
            return getattr(_dt, name)

    ts_mod.datetime = _ClockDatetime()

    # Retry back-off intervals.
    retrier_decl.time = _ClockTime()

    # History timestamps.
    # (moto 5.2.5 reads the time in EventManager._get_current_timestamp.)
    em_mod.EventManager._get_current_timestamp = staticmethod(lambda: polku_clock.now())  # type: ignore[assignment]

    # Every thread of an execution keeps the clock the execution started under (an execution an
    # integration test started on the real clock goes on in real time when a simulation installs
    # a virtual clock, instead of waiting on it as an actor it never counted).
    from moto.stepfunctions.parser.asl.component.program import program as program_mod
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        inline_iteration_component as map_mod,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branch_worker as parallel_mod

    threading_shim = _ClockThreading()
    for mod in (program_mod, map_mod, parallel_mod, cb_mod):
        mod.threading = threading_shim
    execute_state.Thread = polku_clock.ClockThread
    ew_mod.Thread = polku_clock.ClockThread

    # Execution threads are actors of the clock.
    def worker_start(self):
        clk = polku_clock.get_clock()
        clk.enter()

        def run():
            try:
                self._execution_logic()
            finally:
                clk.leave()

        thread = polku_clock.ClockThread(target=run, daemon=True)
        TMP_THREADS.append(thread)
        thread.start()

    ew_mod.ExecutionWorker.start = worker_start

    # StartExecution without a name gets a fresh UUID, as on AWS (moto leaves it None).
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    orig_start_execution = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        import uuid

        return orig_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution

    # Task states: under a virtual clock evaluate inline (no watchdog thread that
    # would wait in wall time); the task-token wait itself carries TimeoutSeconds.
    orig_eval_with_timeout = execute_state.ExecutionState._evaluate_with_timeout

    def evaluate_with_timeout(self, env):
        if not polku_clock.get_clock().virtual:
            return orig_eval_with_timeout(self, env)
        self.timeout.eval(env=env)
        env.stack.pop()
        frame = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = copy.deepcopy(env.stack)
        try:
            self._eval_execution(frame)
            execution_output = frame.stack[-1]
        finally:
            frame.set_ended()
            env.close_frame(frame)
        env.stack.append(execution_output)
        if not self._is_language_query_jsonpath():
            env.states.set_result(execution_output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            res = env.stack.pop()
            env.states.reset(input_value=res)

    execute_state.ExecutionState._evaluate_with_timeout = evaluate_with_timeout

    orig_wait_token = cb_mod.StateTaskServiceCallback._wait_for_task_token_timeout

    def wait_for_task_token_timeout(self, timeout_seconds, callback_endpoint):
        outcome = orig_wait_token(self, timeout_seconds, callback_endpoint)
        if outcome is None and polku_clock.get_clock().virtual:
            raise EvalTimeoutError()
        return outcome

    cb_mod.StateTaskServiceCallback._wait_for_task_token_timeout = wait_for_task_token_timeout
