"""The one clock the whole system asks for "now".

Domain code calls :func:`now`; it never reads ``datetime.now()`` or ``time.time()``
itself. In AWS the clock is the real one. In the local twin it can be a
:class:`VirtualClock`: a discrete-event clock that jumps forward whenever every
*actor* (a Step Functions execution thread, a simulator feeding a timeline) is
blocked waiting for time to pass. Step Functions Wait states, Retry intervals and
task-token timeouts wait on this clock (see :mod:`polku.twin.virtual_time`), so
days of journey run in milliseconds and in a repeatable order.

Rules of the virtual clock:

* ``enter()`` / ``leave()`` count the actors that are running. A thread that
  starts an actor calls ``enter()`` *before* the actor's thread starts, so the
  clock never sees a gap in which nobody runs.
* ``wait(event, seconds)`` blocks the calling actor until the virtual time has
  advanced by ``seconds`` or ``event`` is set (``ClockEvent.set`` wakes it).
* When the running-actor count reaches zero the clock wakes the single earliest
  sleeper (ties broken by the order in which they began to sleep), moving "now"
  to its wake time. Waking one actor at a time makes runs deterministic.
* With ``auto_advance=False`` time moves only through ``advance_to``/``advance``
  (used by ``polku local --virtual-clock``, where a human drives time).
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import threading
import time as _time
from contextlib import contextmanager
from typing import Iterator

UTC = _dt.timezone.utc


def _aware(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RealClock:
    """Wall time. Waits really wait."""

    virtual = False

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(UTC)

    def wait(self, event: threading.Event | None, seconds: float | None) -> bool:
        """Wait up to ``seconds`` (None: forever) for ``event``. True if it was set."""
        if event is None:
            if seconds:
                _time.sleep(seconds)
            return False
        return event.wait(seconds)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            _time.sleep(seconds)

    def yield_now(self) -> None:  # pragma: no cover - trivial
        pass

    # Actor bookkeeping is meaningless for wall time.
    def enter(self) -> None:  # pragma: no cover - trivial
        pass

    def leave(self) -> None:  # pragma: no cover - trivial
        pass

    def interrupt(self, event: threading.Event) -> None:
        pass


class _Sleeper:
    __slots__ = ("when", "seq", "event", "woken", "event_fired", "cond")

    def __init__(self, when: _dt.datetime | None, seq: int, event, cond):
        self.when = when
        self.seq = seq
        self.event = event
        self.woken = False
        self.event_fired = False
        self.cond = cond


class VirtualClock:
    """A discrete-event clock shared by every thread of the local twin."""

    virtual = True

    def __init__(self, start: _dt.datetime | None = None, *, auto_advance: bool = True):
        self._now = _aware(start or _dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
        self._lock = threading.Lock()
        self._active = 0
        self._heap: list[tuple[_dt.datetime, int, _Sleeper]] = []
        self._by_event: dict[int, list[_Sleeper]] = {}
        self._sleepers: set[_Sleeper] = set()
        self._seq = itertools.count()
        self.auto_advance = auto_advance
        self._idle = threading.Condition(self._lock)

    # -- reading --------------------------------------------------------
    def now(self) -> _dt.datetime:
        with self._lock:
            return self._now

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    @property
    def sleeping(self) -> int:
        """How many actors are blocked waiting on this clock."""
        with self._lock:
            return len(self._sleepers)

    # -- actors ---------------------------------------------------------
    def enter(self) -> None:
        with self._lock:
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active < 0:  # pragma: no cover - defensive
                raise RuntimeError("VirtualClock.leave() without enter()")
            self._maybe_advance()

    @contextmanager
    def actor(self) -> Iterator["VirtualClock"]:
        """Count the calling thread as a running actor for the block."""
        self.enter()
        try:
            yield self
        finally:
            self.leave()

    # -- waiting --------------------------------------------------------
    def wait(self, event: threading.Event | None, seconds: float | None) -> bool:
        """Block the calling actor for ``seconds`` of virtual time or until ``event``.

        Returns True when ``event`` was set (interrupted), False on time-out.
        ``seconds=None`` waits for the event only (it never times out).
        The caller must be a counted actor (inside ``enter``/``leave``).
        """
        with self._lock:
            if event is not None and event.is_set():
                return True
            if seconds is not None and seconds <= 0:
                return False
            when = None if seconds is None else self._now + _dt.timedelta(seconds=seconds)
            s = _Sleeper(when, next(self._seq), event, threading.Condition(self._lock))
            if when is not None:
                heapq.heappush(self._heap, (when, s.seq, s))
            if event is not None:
                self._by_event.setdefault(id(event), []).append(s)
            self._block(s)
            return s.event_fired

    def sleep(self, seconds: float) -> None:
        self.wait(None, seconds)

    def yield_now(self) -> None:
        """For a driver actor: let every other running actor (and any sleeper due now) finish
        what it does at this instant before the caller continues. Time does not move."""
        with self._lock:
            s = _Sleeper(self._now, next(self._seq), None, threading.Condition(self._lock))
            heapq.heappush(self._heap, (self._now, s.seq, s))
            self._block(s)

    def sleep_until(self, when: _dt.datetime) -> None:
        delta = (_aware(when) - self.now()).total_seconds()
        if delta > 0:
            self.wait(None, delta)

    def interrupt(self, event: threading.Event) -> None:
        """Wake every actor waiting on ``event`` (called by ClockEvent.set)."""
        with self._lock:
            for s in self._by_event.pop(id(event), []):
                if not s.woken:
                    self._wake(s, fired=True)

    # -- driving time by hand ------------------------------------------
    def advance_to(self, when: _dt.datetime) -> None:
        """Move time forward to ``when``, waking sleepers in order on the way."""
        when = _aware(when)
        with self._lock:
            while self._heap:
                t, _, s = self._heap[0]
                if s.woken:
                    heapq.heappop(self._heap)
                    continue
                if t > when:
                    break
                heapq.heappop(self._heap)
                self._now = max(self._now, t)
                self._wake(s, fired=False)
                # Let the woken actor run until it blocks again before the next.
                while self._active > 0:
                    self._idle.wait(timeout=30)
            if when > self._now:
                self._now = when

    def advance(self, seconds: float) -> None:
        self.advance_to(self.now() + _dt.timedelta(seconds=seconds))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block (in real time) until no actor runs and no sleeper is due. For drivers."""
        deadline = _time.monotonic() + timeout
        with self._lock:
            while self._active > 0:
                left = deadline - _time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(timeout=left)
            return True

    # -- internals (lock held) ------------------------------------------
    def _block(self, s: _Sleeper) -> None:
        """The calling actor stops running until ``s`` is woken (by time or by its event)."""
        self._sleepers.add(s)
        self._active -= 1
        self._maybe_advance()
        while not s.woken:
            s.cond.wait()
        self._forget(s)

    def _wake(self, s: _Sleeper, *, fired: bool) -> None:
        s.woken = True
        s.event_fired = fired
        self._active += 1
        s.cond.notify_all()

    def _forget(self, s: _Sleeper) -> None:
        self._sleepers.discard(s)
        if s.event is not None:
            lst = self._by_event.get(id(s.event))
            if lst and s in lst:
                lst.remove(s)
                if not lst:
                    del self._by_event[id(s.event)]

    def _maybe_advance(self) -> None:
        if self._active > 0:
            return
        self._idle.notify_all()
        if not self.auto_advance:
            return
        while self._heap:
            t, _, s = heapq.heappop(self._heap)
            if s.woken:
                continue
            self._now = max(self._now, t)
            self._wake(s, fired=False)
            return


class ClockEvent(threading.Event):
    """A threading.Event whose ``set`` also wakes actors waiting on it in the clock."""

    def set(self) -> None:  # noqa: A003 - mirrors threading.Event
        super().set()
        get_clock().interrupt(self)


_clock: RealClock | VirtualClock = RealClock()
_bound = threading.local()


def get_clock() -> RealClock | VirtualClock:
    """The calling thread's clock: the one it was bound to (:func:`bound`), else the process's."""
    return getattr(_bound, "clock", None) or _clock


@contextmanager
def bound(clk: RealClock | VirtualClock) -> Iterator[RealClock | VirtualClock]:
    """Bind the calling thread to ``clk`` for the block, whatever :func:`set_clock` installs meanwhile.

    A Step Functions execution thread keeps the clock it started under: one started on the real
    clock and still waiting when a simulation installs a virtual clock must neither read the
    virtual time nor wait on it as an actor the virtual clock never counted (that made the clock
    jump while a simulation's driver was still feeding events)."""
    previous = getattr(_bound, "clock", None)
    _bound.clock = clk
    try:
        yield clk
    finally:
        _bound.clock = previous


class ClockThread(threading.Thread):
    """A thread that keeps the clock of the thread that created it (see :func:`bound`).

    The twin gives it to moto's Step Functions interpreter, whose execution, program, Map and
    Parallel threads then all live on the clock the execution started under."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._polku_clock = get_clock()

    def run(self) -> None:
        with bound(self._polku_clock):
            super().run()


def set_clock(clock: RealClock | VirtualClock) -> RealClock | VirtualClock:
    """Install ``clock`` process-wide; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> _dt.datetime:
    """The current time (timezone-aware UTC) from the calling thread's clock."""
    return get_clock().now()


def now_iso() -> str:
    """``now()`` as an ISO-8601 string with milliseconds and a ``Z``."""
    return to_iso(now())


def to_iso(value: _dt.datetime) -> str:
    return _aware(value).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> _dt.datetime:
    """Parse ISO-8601 (``Z`` or offset); naive values are taken as UTC."""
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return _aware(value).astimezone(UTC)
