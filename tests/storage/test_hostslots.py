"""Host slots in the database (both databases): one holder at a time, the next allowed time,
pauses, and a dead holder's slot coming back; the discovery advisory lock (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import hostslots, locks
from storage.db import make_engine, session_factory, upgrade

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
HOLD = timedelta(minutes=2)


def _sessions(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    return engine, session_factory(engine)


def test_one_holder_then_the_delay_then_the_next(db_url: str) -> None:
    engine, sessions = _sessions(db_url)
    with sessions.begin() as s:
        assert hostslots.take(s, "a.vn", holder="w1", now=NOW, hold=HOLD) is None
    with sessions.begin() as s:  # held: w2 is told to look again after its delay
        assert hostslots.take(s, "a.vn", holder="w2", now=NOW, hold=HOLD, delay=2.0) == 2.0
    with sessions.begin() as s:  # another host is free
        assert hostslots.take(s, "b.vn", holder="w2", now=NOW, hold=HOLD) is None
    end = NOW + timedelta(seconds=1)
    with sessions.begin() as s:
        hostslots.give_back(
            s, "a.vn", holder="w1", next_allowed_at=end + timedelta(seconds=5), last_elapsed=1.0
        )
    with sessions.begin() as s:  # free, but not before end + 5 s
        assert hostslots.take(s, "a.vn", holder="w2", now=end, hold=HOLD) == 5.0
        assert hostslots.last_elapsed(s, "a.vn") == 1.0
    with sessions.begin() as s:
        assert (
            hostslots.take(s, "a.vn", holder="w2", now=end + timedelta(seconds=5), hold=HOLD)
            is None
        )
    engine.dispose()


def test_a_pause_holds_every_worker_and_a_give_back_never_shortens_it(db_url: str) -> None:
    engine, sessions = _sessions(db_url)
    with sessions.begin() as s:
        assert hostslots.take(s, "a.vn", holder="w1", now=NOW, hold=HOLD) is None
    with sessions.begin() as s:  # a 429 with Retry-After: 120
        hostslots.pause(s, "a.vn", NOW + timedelta(seconds=120))
        hostslots.give_back(
            s, "a.vn", holder="w1", next_allowed_at=NOW + timedelta(seconds=2), last_elapsed=0.1
        )
    with sessions.begin() as s:
        assert (
            hostslots.take(s, "a.vn", holder="w2", now=NOW + timedelta(seconds=60), hold=HOLD)
            == 60.0
        )
    with sessions.begin() as s:  # a shorter pause does not undo the longer one
        hostslots.pause(s, "a.vn", NOW + timedelta(seconds=10))
        assert (
            hostslots.take(s, "a.vn", holder="w2", now=NOW + timedelta(seconds=119), hold=HOLD)
            == 1.0
        )
    engine.dispose()


def test_a_dead_holder_blocks_the_host_only_until_its_hold_ends(db_url: str) -> None:
    engine, sessions = _sessions(db_url)
    with sessions.begin() as s:
        assert hostslots.take(s, "a.vn", holder="dead", now=NOW, hold=HOLD) is None
    with sessions.begin() as s:
        assert hostslots.take(s, "a.vn", holder="w2", now=NOW + HOLD / 2, hold=HOLD) is not None
    with sessions.begin() as s:
        assert hostslots.take(s, "a.vn", holder="w2", now=NOW + HOLD, hold=HOLD) is None
    with sessions.begin() as s:  # the dead worker's late give-back does not free w2's slot
        hostslots.give_back(s, "a.vn", holder="dead", next_allowed_at=NOW, last_elapsed=None)
        assert hostslots.take(s, "a.vn", holder="w3", now=NOW + HOLD, hold=HOLD) is not None
    engine.dispose()


def test_discovery_lock_is_exclusive_across_connections(pg_url: str) -> None:
    first, second = make_engine(pg_url), make_engine(pg_url)
    with locks.exclusive(first, "discover:big") as mine:
        assert mine
        with locks.exclusive(second, "discover:big") as theirs:
            assert not theirs
        with locks.exclusive(second, "discover:other") as other:
            assert other
    with locks.exclusive(second, "discover:big") as now_theirs:
        assert now_theirs
    first.dispose()
    second.dispose()


def test_discovery_lock_is_always_granted_on_sqlite(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with locks.exclusive(engine, "discover:big") as a, locks.exclusive(engine, "discover:big") as b:
        assert a and b
    engine.dispose()


def test_lock_keys_are_stable_signed_32_bit() -> None:
    key = locks.lock_key("discover:big")
    assert key == locks.lock_key("discover:big") != locks.lock_key("discover:small")
    assert -(2**31) <= key < 2**31
