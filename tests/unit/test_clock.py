"""The shared clock: real and virtual behaviour."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from polku import clock

T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def test_now_is_aware_utc_and_iso_has_z():
    assert clock.now().tzinfo is not None
    assert clock.to_iso(T0) == "2026-01-05T08:00:00.000Z"
    assert clock.parse_iso("2026-01-05T10:00:00+02:00") == T0


def test_parse_iso_takes_naive_as_utc():
    assert clock.parse_iso("2026-01-05T08:00:00") == T0


def test_virtual_sleep_jumps_when_no_actor_runs():
    vc = clock.VirtualClock(T0)
    done = threading.Event()

    def actor():
        vc.sleep(3 * 86400)
        done.set()
        vc.leave()

    vc.enter()
    threading.Thread(target=actor).start()
    assert done.wait(5)
    assert vc.now() == T0 + dt.timedelta(days=3)


def test_sleepers_wake_in_time_order_one_at_a_time():
    vc = clock.VirtualClock(T0)
    order = []

    def actor(name, seconds):
        vc.sleep(seconds)
        order.append((name, vc.now()))
        vc.leave()

    threads = []
    vc.enter()  # the driver holds time still while the actors start
    for name, secs in [("c", 300), ("a", 100), ("b", 200)]:
        vc.enter()
        t = threading.Thread(target=actor, args=(name, secs))
        threads.append(t)
        t.start()
    while vc.sleeping < 3:
        pass
    vc.leave()
    for t in threads:
        t.join(5)
    assert [n for n, _ in order] == ["a", "b", "c"]
    assert order[-1][1] == T0 + dt.timedelta(seconds=300)


def test_event_interrupts_a_virtual_wait_without_moving_time():
    vc = clock.VirtualClock(T0)
    previous = clock.set_clock(vc)
    try:
        ev = clock.ClockEvent()
        result = {}
        vc.enter()  # driver
        vc.enter()  # waiter

        def waiter():
            result["fired"] = vc.wait(ev, 86400)
            vc.leave()

        t = threading.Thread(target=waiter)
        t.start()
        while vc.sleeping < 1:
            pass
        ev.set()
        t.join(5)
        vc.leave()
        assert result == {"fired": True}
        assert vc.now() == T0
    finally:
        clock.set_clock(previous)


def test_manual_clock_moves_only_when_advanced():
    vc = clock.VirtualClock(T0, auto_advance=False)
    woke = threading.Event()

    def actor():
        vc.sleep(60)
        woke.set()
        vc.leave()

    vc.enter()
    threading.Thread(target=actor).start()
    while vc.sleeping < 1:
        pass
    assert not woke.wait(0.2)
    vc.advance(30)
    assert not woke.is_set() and vc.now() == T0 + dt.timedelta(seconds=30)
    vc.advance(30)
    assert woke.wait(5)


def test_leave_without_enter_is_an_error():
    vc = clock.VirtualClock(T0)
    with pytest.raises(RuntimeError):
        vc.leave()


def test_a_thread_keeps_the_clock_it_was_created_under():
    """A ClockThread created on the real clock stays on it when a virtual clock is installed; one
    created under the virtual clock reads virtual time; a bound block overrides the process clock."""
    go, seen = threading.Event(), {}

    def read(name):
        go.wait(5)
        seen[name] = clock.get_clock()

    real_thread = clock.ClockThread(target=read, args=("real",))
    real_thread.start()
    vc = clock.VirtualClock(T0)
    previous = clock.set_clock(vc)
    try:
        virtual_thread = clock.ClockThread(target=read, args=("virtual",))
        virtual_thread.start()
        go.set()
        real_thread.join(5)
        virtual_thread.join(5)
        assert not seen["real"].virtual and seen["virtual"] is vc
        with clock.bound(previous):
            assert not clock.get_clock().virtual and clock.now() != T0
        assert clock.now() == T0
    finally:
        clock.set_clock(previous)
