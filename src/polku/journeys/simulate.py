"""Time-travel simulation: run a journey's real ASL with the real step handlers on a virtual clock.

``simulate(journey, timeline)`` feeds a timeline of tracking events (the JSON
schema of ``POST /v1/events``, each with its ``ts``; an ``identify`` line carries
``anonymous_id``, ``customer_id`` and the traits in ``properties``) into the local
twin at their virtual times. The events stream starts, resumes and stops
executions exactly as in AWS; Wait states, retries and task-token time-outs
follow the virtual clock. The result is one record per happening:

``{"at", "customer_id", "journey", "kind": entered|state|message|action|exited, ...}``

read back from the executions' histories and the journey state table, sorted by
time, customer and order of occurrence. The same input gives byte-identical output.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from polku import clock
from polku.journeys import registry as registry_mod

REPO = Path(__file__).resolve().parents[3]


class TimelineError(ValueError):
    """A timeline line is not usable (message names the line and field)."""


class SimulationError(RuntimeError):
    """The simulation cannot run as asked (e.g. the twin lacks the journey's state machine)."""


@dataclass
class TimelineEvent:
    line: int
    at: _dt.datetime
    body: dict


def parse_timeline(lines: Iterable[str]) -> list[TimelineEvent]:
    out = []
    for n, raw in enumerate(lines, 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TimelineError(f"timeline line {n}: not JSON ({exc.msg})") from None
        if not isinstance(body, dict):
            raise TimelineError(f"timeline line {n}: must be a JSON object")
        if not isinstance(body.get("type"), str):
            raise TimelineError(f"timeline line {n}: field type is required")
        ts = body.get("ts")
        if not isinstance(ts, str):
            raise TimelineError(f"timeline line {n}: field ts is required (ISO-8601 time of the event)")
        try:
            at = clock.parse_iso(ts)
        except ValueError:
            raise TimelineError(f"timeline line {n}: field ts is not ISO-8601: {ts!r}") from None
        if not body.get("customer_id") and not body.get("anonymous_id"):
            raise TimelineError(f"timeline line {n}: customer_id or anonymous_id is required")
        if body["type"] == "identify" and not body.get("customer_id"):
            raise TimelineError(f"timeline line {n}: an identify line needs customer_id")
        body = dict(body)
        body.setdefault("event_id", "sim-" + hashlib.sha256(f"{n}\x1f{raw}".encode()).hexdigest()[:24])
        out.append(TimelineEvent(n, at, body))
    out.sort(key=lambda e: (e.at, e.line))
    return out


@dataclass
class Simulation:
    """One simulation run. ``twin`` may be shared (tests); otherwise one is started and stopped."""

    journey: str | list[str]  # one journey, or several active together (the demo)
    twin: object | None = None
    registry: registry_mod.Registry | None = None
    site_key: str | None = None
    in_process: bool = True
    # Worker processes: customers' journeys are independent, so the timeline may be split by
    # customer (see shard_timeline) and simulated in this process and workers-1 others, each on
    # its own twin; the merged output is byte-identical to a single-process run.
    workers: int = 1
    rejected: list = field(default_factory=list)
    worker_stats: list = field(default_factory=list)  # per process of a split run: size and times
    delivered: dict = field(default_factory=dict)  # message id -> outbox.Delivered of the output's sent messages

    def run(self, events: list[TimelineEvent], start: _dt.datetime | None = None,
            until: _dt.datetime | None = None) -> list[dict]:
        if self.workers > 1 and type(self)._feed is Simulation._feed and self.in_process:
            shards = shard_timeline(events, self.workers)
            if len(shards) > 1:
                return self._run_sharded(events, shards, start, until)
        return self._run(events, start, until)

    def _run_sharded(self, events, shards, start, until) -> list[dict]:
        """Simulate shards[0] here and every other shard in a worker process; merge the outputs.

        Every shard gets the whole run's start and scheduler horizon, so each customer's
        journey sees exactly the clock it would in one process. Each output is sorted by
        (time, customer) and no customer is in two shards, so a merge on that key gives the
        single-process order (ties are one customer's rows, kept in their shard's order).
        """
        import heapq
        import multiprocessing
        import time

        start = _checked_start(events, start)
        if until is None and any(self._registry().get(n).trigger.scheduled for n in self._names()):
            until = _default_horizon(events, start)  # the single-process scheduler horizon
        ctx = multiprocessing.get_context("spawn")
        spec = {"journey": self.journey, "registry": self.registry, "site_key": self.site_key,
                "in_process": self.in_process}
        import logging

        from concurrent.futures import ProcessPoolExecutor

        # A worker that dies makes its result raise (BrokenProcessPool) instead of waiting forever.
        from polku.twin import asl_validation

        with ProcessPoolExecutor(len(shards) - 1, mp_context=ctx, initializer=_worker_init,
                                 initargs=(logging.root.manager.disable, asl_validation.known())) as pool:
            pending = [pool.submit(_run_shard, spec, shard, start, until) for shard in shards[1:]]
            t0 = time.perf_counter()
            outputs = [self._run(shards[0], start, until)]
            self.worker_stats = [{**_shard_size(shards[0]), "simulate_s": round(time.perf_counter() - t0, 2),
                                  "process": "main"}]
            rejected = list(self.rejected)
            for job in pending:
                out, rej, stats, sent = job.result()
                outputs.append(out)
                self.delivered.update(sent)
                rejected.extend(rej)
                self.worker_stats.append({**stats, "process": "worker"})
        self.rejected[:] = sorted(rejected, key=lambda r: r["line"])
        return list(heapq.merge(*outputs, key=lambda h: (h["at"], h["customer_id"])))

    def _names(self) -> list[str]:
        return [self.journey] if isinstance(self.journey, str) else list(self.journey)

    def _registry(self) -> registry_mod.Registry:
        return self.registry or registry_mod.load()

    def _run(self, events: list[TimelineEvent], start: _dt.datetime | None = None,
             until: _dt.datetime | None = None) -> list[dict]:
        from polku.twin import gc_tuning, virtual_time

        names = self._names()
        reg = self._registry().only(*names)
        journeys = [reg.get(n) for n in names]
        start = _checked_start(events, start)
        vclock = clock.VirtualClock(start)
        own_twin = self.twin is None
        previous_clock = clock.set_clock(vclock)
        previous_registry = registry_mod.use(reg)
        try:
            if own_twin:
                from polku.twin.twin import Twin

                self.twin = Twin(REPO / "template.yaml").start()
            virtual_time.apply()
            with gc_tuning.tuned(), InProcess(self.twin, enabled=self.in_process):
                self._check_deployed(journeys, reg)
                customers = self._drive(events, journeys, reg, vclock, start, until)
                vclock.wait_idle(timeout=3600)
                out = []
                sent = delivered_messages(self.twin)
                for journey in journeys:
                    out.extend(collect(self.twin, journey, sorted(customers), sent, self.delivered))
                if len(journeys) > 1:
                    out.sort(key=lambda h: (h["at"], h["customer_id"]))  # stable: per-journey order kept
                return out
        finally:
            registry_mod.use(previous_registry)
            if own_twin and self.twin is not None:
                self.twin.stop()
                self.twin = None
            clock.set_clock(previous_clock)

    def _check_deployed(self, journeys, reg) -> None:
        """Every journey to simulate runs its definition from the registry's folder: the twin published
        statemachines/ at start; a journey of another folder (a copy, a new journey) is published here
        the same way (polku.journeys.publish: unchanged definitions make no new version)."""
        from polku.journeys import publish

        folder = Path(reg.path).resolve().parent if reg.path else REPO / "statemachines"
        sfn = _client(self.twin, "stepfunctions")
        try:
            stack = publish.JourneyStack.from_outputs(self.twin.outputs)
            for j in journeys:
                publish.publish(sfn, j, publish.definition(j, folder, stack), stack)
        except publish.PublishError as exc:
            raise SimulationError(f"{exc}; run `polku journeys lint {folder}`") from None

    def _drive(self, events, journeys, reg, vclock, start, until) -> set[str]:
        from polku.journeys.triggers import run_schedule, scan_profiles

        sfn = _client(self.twin, "stepfunctions")
        prefix = self.twin.outputs["StateMachinePrefix"]
        customers: set[str] = set()
        ticks: list[_dt.datetime] = []
        scheduled = [j for j in journeys if j.trigger.scheduled]
        if scheduled:
            end = until or _default_horizon(events, start)
            t = start.replace(minute=0, second=0, microsecond=0) + _dt.timedelta(hours=1)
            while t <= end:
                if any(j.trigger.due(t) for j in scheduled):
                    ticks.append(t)
                t += _dt.timedelta(hours=1)
        # Merge events and scheduler ticks; at equal times events go first.
        agenda = [(e.at, 0, i) for i, e in enumerate(events)] + [(t, 1, i) for i, t in enumerate(ticks)]
        agenda.sort()
        with vclock.actor():
            for at, kind, i in agenda:
                vclock.sleep_until(at)
                if kind == 0:
                    ev = events[i]
                    customers.update(self._feed(ev))
                else:
                    run_schedule(reg, scan_profiles(), sfn, prefix, at)
                vclock.yield_now()
        if not customers:
            pass
        return customers

    def _feed(self, ev: TimelineEvent) -> set[str]:
        body = dict(ev.body)
        if body["type"] == "identify":
            from polku.tracking.identify import identify

            request = {k: body[k] for k in ("event_id", "anonymous_id", "customer_id", "ts") if body.get(k)}
            request["traits"] = body.get("properties") or {}
            if body.get("context"):
                request["context"] = body["context"]
            identify(request, site_key=self.site_key)
            return {body["customer_id"]}
        from polku.tracking.ingest import ingest

        result = ingest([body], site_key=self.site_key)
        for r in result.rejected:
            self.rejected.append({"line": ev.line, **r})
        return {body["customer_id"]} if body.get("customer_id") else set()


def shard_timeline(events: list[TimelineEvent], n: int) -> list[list[TimelineEvent]]:
    """Split a timeline into at most ``n`` parts that share no customer.

    Lines are grouped by who they concern: a customer id, an anonymous id, and the two
    together when one line names both (an identify, an event of a signed-in visitor), so an
    anonymous visitor's events go with the customer they are later linked to. Groups go, in
    order of their first line, to the part with the fewest lines so far. Each part keeps the
    lines' order and numbers (event ids are derived from them).
    """
    parent: dict[tuple, tuple] = {}

    def find(x):
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    keys = []
    for ev in events:
        k = [("c", str(ev.body["customer_id"]))] if ev.body.get("customer_id") else []
        if ev.body.get("anonymous_id"):
            k.append(("a", str(ev.body["anonymous_id"])))
        keys.append(k)
        for other in k[1:]:
            a, b = find(k[0]), find(other)
            if a != b:
                parent[b] = a
        if k:
            find(k[0])
    groups: dict[tuple, list[TimelineEvent]] = {}
    order: list[tuple] = []
    for ev, k in zip(events, keys):
        root = find(k[0])
        if root not in groups:
            groups[root] = []
            order.append(root)
        groups[root].append(ev)
    parts: list[list[TimelineEvent]] = [[] for _ in range(max(1, min(n, len(order))))]
    for root in order:
        min(parts, key=len).extend(groups[root])
    for part in parts:
        part.sort(key=lambda e: (e.at, e.line))
    return [p for p in parts if p]


def _checked_start(events: list[TimelineEvent], start: _dt.datetime | None) -> _dt.datetime:
    """The run's virtual start: the given one (not after the first event) or the first event's time."""
    first = events[0].at if events else clock.now()
    if start is None:
        return first
    if events and start > first:
        raise TimelineError(f"--start {clock.to_iso(start)} is after the first event ({clock.to_iso(first)})")
    return start


def _default_horizon(events: list[TimelineEvent], start: _dt.datetime) -> _dt.datetime:
    """Where the scheduler stops without --until: a day after the last event."""
    return (events[-1].at if events else start) + _dt.timedelta(days=1)


def _shard_size(events: list[TimelineEvent]) -> dict:
    return {"customers": len({e.body.get("customer_id") for e in events} - {None}), "lines": len(events)}


def _worker_init(logging_disabled: int, valid_definitions=()) -> None:
    """A simulation worker: what its handlers print goes to stderr (stdout carries the output),
    logging is as quiet as in the parent, the collector runs less often (twin/gc_tuning.py) and
    the state-machine definitions the parent's twin validated are not parsed again (twin/asl_validation.py)."""
    import logging
    import os
    import sys

    from polku.twin import asl_validation, gc_tuning

    asl_validation.learn(valid_definitions)  # the parent's twin already had moto parse these texts
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.disable(logging_disabled)
    gc_tuning.apply_threshold()  # this process only starts a twin and simulates (see gc_tuning)


def _run_shard(spec: dict, events: list[TimelineEvent], start, until):
    import time

    from polku.twin.twin import Twin

    t0 = time.perf_counter()
    twin = Twin(REPO / "template.yaml").start()
    t1 = time.perf_counter()
    try:
        sim = Simulation(spec["journey"], twin=twin, registry=spec["registry"], site_key=spec["site_key"],
                         in_process=spec["in_process"])
        out = sim.run(events, start, until)
    finally:
        twin.stop()
    stats = {**_shard_size(events), "twin_start_s": round(t1 - t0, 2), "simulate_s": round(time.perf_counter() - t1, 2)}
    return out, sim.rejected, stats, sim.delivered


class InProcess:
    """Run the simulation's AWS calls in-process against the twin's own moto backends.

    The twin serves AWS over HTTP (a thread, a TCP connection and a Flask dispatch per call).
    The simulator drives thousands of calls, so it switches this process to moto's in-process
    interception over the *same* backends (``mock_aws`` started without a reset): nothing the
    handlers see changes but the transport. Clients cached with the twin's endpoint are dropped
    so they are rebuilt in-process; everything is restored afterwards.
    """

    def __init__(self, twin, enabled: bool = True):
        self.twin = twin
        self.enabled = enabled
        self._mock = None
        self._endpoint = None

    def __enter__(self):
        import os

        from polku.data.base import bind_models
        from polku.settings import get_settings

        get_settings.cache_clear()
        over_http = bool(os.environ.get("AWS_ENDPOINT_URL"))
        if not over_http:  # the twin already dispatches this process's calls in-process
            self.enabled = False
            bind_models(get_settings(), host=None)
            return self
        if not self.enabled:
            bind_models(get_settings(), host=self.twin.endpoint_url)
            return self
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start(reset=False)
        self._endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
        _drop_cached_clients()
        bind_models(get_settings(), host=None)
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        import os

        from polku.data.base import bind_models
        from polku.settings import get_settings

        if self._endpoint:
            os.environ["AWS_ENDPOINT_URL"] = self._endpoint
        _drop_cached_clients()
        bind_models(get_settings(), host=self.twin.endpoint_url)
        self._mock.stop(remove_data=False)


def _drop_cached_clients() -> None:
    """Forget boto3 clients that handlers keep between invocations (a warm container's)."""
    from polku import aws_clients
    from polku.twin.patches import sfn_task_clients

    sfn_task_clients.clear()
    aws_clients.reset()


def _client(twin, service: str):
    import os

    import boto3

    if os.environ.get("AWS_ENDPOINT_URL"):
        return twin.client(service)
    return boto3.client(service, region_name=twin.region, aws_access_key_id="twin", aws_secret_access_key="twin")


# ---------------------------------------------------------------- reading back
def _iso(value) -> str:
    if isinstance(value, _dt.datetime):
        return clock.to_iso(value)
    return str(value)


def delivered_messages(twin):
    """What the twin's SES and SNS accepted (see outbox.delivered); empty when the twin's
    backends are not in this process."""
    try:
        from polku.messaging.outbox import delivered

        return delivered(twin)
    except Exception:  # noqa: BLE001 - not in-process: message lines carry no subject and text
        return {}, {}


def delivered_of(sent, output: dict):
    """The delivered message (outbox.Delivered) a Send output names, or None."""
    from polku.messaging.outbox import email_of

    emails, other = sent or ({}, {})
    d = emails.get(output.get("message_id") or "") if output.get("channel") == "email" else None
    if d is None and output.get("channel") in ("sms", "push"):
        d = other.get(output.get("provider_id") or "")
    return email_of(d) if d is not None else None


def message_content(d) -> dict:
    """``subject`` (e-mail subject or push title) and ``text`` (text part, SMS or push body) of a
    delivered message, its signed links written as their destinations."""
    from polku.messaging.outbox import readable

    if d is None:
        return {}
    return {"subject": d.subject, "text": readable(d.text).replace("\r\n", "\n").strip()}


def collect(twin, journey, customers: list[str], sent=None, found: dict | None = None) -> list[dict]:
    """Happenings of ``journey`` for ``customers`` from executions and the journey state table.
    ``sent`` (:func:`delivered_messages`) gives each sent message line its subject and text;
    ``found`` collects the delivered message of each line by message id (for an outbox)."""
    from polku.data import journey_state
    from polku.journeys.steps import plain

    sm_arn = twin.outputs["StateMachinePrefix"] + journey.state_machine
    send_arn = _function_arn(twin, "SendFunction")
    wanted = set(customers)
    rows: list[tuple] = []
    seq = 0

    def add(at: str, customer: str, kind: str, **detail):
        nonlocal seq
        seq += 1
        rows.append((at, customer, seq, {"at": at, "customer_id": customer, "journey": journey.name, "kind": kind, **detail}))

    details = []
    for name, arn, data, events in _executions(twin, sm_arn):
        if data.get("customer_id") in wanted:
            details.append((data.get("entered_at") or "", data["customer_id"], name, arn, data, events))
    details.sort(key=lambda x: (x[0], x[1], x[2]))
    for _, customer, name, arn, data, events in details:
        _history(events, name, data, customer, add, send_arn, sent, found)
    # A revoke the run made itself (e.g. birthday's, reason goal) is in its history already; the
    # journey state adds only those made from outside the run (the trigger's goal or exit stop).
    revoked = {r[3].get("offer_id") for r in rows if r[3].get("type") == "OfferRevoked"}
    for customer in sorted(wanted):
        for item in journey_state.items(customer, journey_state.RUN):
            if item.journey == journey.name and item.status == "holdout":
                add(item.entered_at, customer, "entered", variant="holdout")
                add(item.entered_at, customer, "exited", reason="holdout")
        for item in journey_state.items(customer, journey_state.OFFER):
            if item.journey != journey.name:
                continue
            rev = (plain(item.detail) or {}).get("revocation")
            if rev and rev.get("reason") in ("goal", "stopped") and rev["offer_id"] not in revoked:
                add(rev["revoked_at"], customer, "action", type="OfferRevoked", offer_id=rev["offer_id"],
                    code=rev.get("code"), reason=rev["reason"])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [r[3] for r in rows]


def _function_arn(twin, logical_id: str) -> str:
    return f"arn:aws:lambda:{twin.region}:123456789012:function:{twin.names[logical_id]}"


def _executions(twin, sm_arn: str):
    """(name, arn, input, history events) of every execution of a state machine.

    Read from the twin's moto backend directly (the API would serialise every history);
    through the Step Functions API when the backend is not in this process.
    """
    try:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT][twin.region]
        machine = backend.describe_state_machine(sm_arn)
    except Exception:  # noqa: BLE001 - not in-process: use the API
        machine = None
    if machine is not None:
        for ex in list(machine.executions):
            data = ex.execution_input
            data = json.loads(data) if isinstance(data, str) else (data or {})
            yield ex.name, ex.exec_arn, data, list(ex.to_history_output()["events"])
        return
    from polku.journeys.counts import execution_histories

    yield from execution_histories(_client(twin, "stepfunctions"), sm_arn)


ACCOUNT = "123456789012"


def _history(events, execution, data, customer, add, send_arn, sent=None, found=None) -> None:
    scheduled: dict[int, dict] = {}
    state_of: dict[int, str] = {}
    current_state = None
    for ev in events:
        et, at = ev["type"], _iso(ev["timestamp"])
        if et == "ExecutionStarted":
            add(data.get("entered_at") or at, customer, "entered", variant=data.get("variant"), execution=execution,
                trigger=(data.get("trigger") or {}).get("type"))
        elif et.endswith("StateEntered"):
            current_state = ev["stateEnteredEventDetails"]["name"]
            add(at, customer, "state", state=current_state)
        elif et in ("LambdaFunctionScheduled", "TaskScheduled"):
            det = ev.get("lambdaFunctionScheduledEventDetails") or ev.get("taskScheduledEventDetails") or {}
            resource = det.get("resource", "")
            params = det.get("input") or det.get("parameters") or "{}"
            scheduled[ev["id"]] = {"resource": resource, "input": json.loads(params)}
            state_of[ev["id"]] = current_state
        elif et in ("LambdaFunctionSucceeded", "TaskSucceeded"):
            det = ev.get("lambdaFunctionSucceededEventDetails") or ev.get("taskSucceededEventDetails") or {}
            sched = _find_scheduled(scheduled, ev)
            try:
                output = json.loads(det.get("output") or "null")
            except json.JSONDecodeError:
                output = None
            if isinstance(output, dict) and "Payload" in output and isinstance(output.get("Payload"), dict):
                output = output["Payload"]
            if sched and sched["resource"] == send_arn and isinstance(output, dict):
                inp = sched["input"]
                detail = {k: output[k] for k in ("subject", "reason", "message_id") if output.get(k) is not None}
                if output.get("status") == "sent" and not output.get("replayed"):
                    d = delivered_of(sent, output)
                    detail.update(message_content(d))
                    if d is not None and found is not None and output.get("message_id"):
                        found[output["message_id"]] = d
                add(at, customer, "message", state=state_of.get(sched["id"]), template=inp.get("template"),
                    stage=(inp.get("context") or {}).get("stage"), channel=output.get("channel"),
                    status=output.get("status"), **detail)
            elif isinstance(output, dict) and isinstance(output.get("action"), str):
                detail = {k: output[k] for k in ("offer_id", "code", "discount_percent", "valid_until", "reason")
                          if output.get(k) is not None}
                add(at, customer, "action", type=output["action"], state=sched and state_of.get(sched["id"]), **detail)
        elif et == "ExecutionSucceeded":
            try:
                out = json.loads(ev["executionSucceededEventDetails"].get("output") or "{}")
            except json.JSONDecodeError:
                out = {}
            reason = (out.get("exit") or {}).get("exit") if isinstance(out, dict) else None
            add(at, customer, "exited", reason=reason or "completed", execution=execution)
        elif et == "ExecutionAborted":
            from polku.journeys.runs import stop_reason

            add(at, customer, "exited", reason=stop_reason(customer, execution) or "stopped", execution=execution)
        elif et in ("ExecutionFailed", "ExecutionTimedOut"):
            det = ev.get("executionFailedEventDetails") or ev.get("executionTimedOutEventDetails") or {}
            cause = det.get("cause") or ""
            try:
                cause = json.loads(cause).get("errorMessage", cause)
            except (json.JSONDecodeError, AttributeError):
                pass
            add(at, customer, "exited", reason="failed", execution=execution, error=det.get("error"),
                cause=str(cause)[:300])


def _find_scheduled(scheduled: dict, ev: dict):
    pid = ev.get("previousEventId")
    while pid is not None and pid not in scheduled and pid > 0:
        pid -= 1
    if pid in scheduled:
        s = scheduled[pid]
        s["id"] = pid
        return s
    return None


def simulate(journey: str, lines: Iterable[str], start: _dt.datetime | None = None, twin=None,
             until: _dt.datetime | None = None) -> list[dict]:
    events = parse_timeline(lines)
    return Simulation(journey, twin=twin).run(events, start, until)


def write_outbox(happenings: list[dict], delivered: dict, out_dir) -> list:
    """The simulation's sent messages as the demo's outbox writes them (one HTML and one text
    file per e-mail, an index with the SMS and push messages), in the order of the output."""
    from polku.messaging import outbox

    emails, sms, push = [], [], []
    for h in happenings:
        d = delivered.get(h.get("message_id") or "") if h.get("kind") == "message" else None
        if d is None:
            continue
        if d.channel == "email":
            emails.append(d.raw)
        elif d.channel == "sms":
            sms.append((d.to, d.text))
        else:
            push.append((d.to, d.subject, d.text))
    return outbox.write_outbox(emails, out_dir, sms=sms, push=push)


def dumps(happenings: list[dict]) -> str:
    return "".join(json.dumps(h, sort_keys=True, separators=(",", ":"), default=str) + "\n" for h in happenings)


def summarize(happenings: list[dict]) -> dict[str, dict]:
    """Per-journey counts for a report or the demo: customers entered, per state, messages sent,
    actions by type, exits by reason and goal rate."""
    out: dict[str, dict] = {}
    for h in happenings:
        j = out.setdefault(h.get("journey", "?"), {"entered": 0, "states": {}, "messages": {}, "actions": {},
                                                     "exits": {}})
        kind = h["kind"]
        if kind == "entered":
            j["entered"] += 1
        elif kind == "state":
            j["states"][h["state"]] = j["states"].get(h["state"], 0) + 1
        elif kind == "message":
            key = f"{h.get('state')}:{h.get('status')}"
            j["messages"][key] = j["messages"].get(key, 0) + 1
        elif kind == "action":
            j["actions"][h["type"]] = j["actions"].get(h["type"], 0) + 1
        elif kind == "exited":
            j["exits"][h["reason"]] = j["exits"].get(h["reason"], 0) + 1
    for j in out.values():
        runs = sum(n for r, n in j["exits"].items() if r != "holdout")
        j["goal_rate"] = round(j["exits"].get("goal", 0) / runs, 3) if runs else 0.0
    return out


def format_summary(summary: dict[str, dict]) -> str:
    lines = []
    for name in sorted(summary):
        j = summary[name]
        lines.append(f"{name}: entered {j['entered']}, goal rate {j['goal_rate']:.1%}")
        lines.append("  exits: " + ", ".join(f"{k} {v}" for k, v in sorted(j["exits"].items())))
        for state, n in j["states"].items():
            lines.append(f"  {state:<34} {n}")
        if j["messages"]:
            lines.append("  messages: " + ", ".join(f"{k} {v}" for k, v in sorted(j["messages"].items())))
        if j["actions"]:
            lines.append("  actions: " + ", ".join(f"{k} {v}" for k, v in sorted(j["actions"].items())))
    return "\n".join(lines) + "\n"
