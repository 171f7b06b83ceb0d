"""The pause and report of loops that must keep running (relay, hub, listeners, worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.supervision import Backoff, cancelled

log = logging.getLogger("tests.supervision")


def test_pauses_double_with_each_failure_in_a_row_up_to_the_cap() -> None:
    backoff = Backoff(log, "loop", first=0.1, cap=1.0)
    pauses = []
    for _ in range(6):
        backoff.note(RedisConnectionError("away"))
        pauses.append(backoff.pause_seconds())
    assert pauses == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    backoff.succeeded()
    backoff.note(RedisConnectionError("away again"))
    assert backoff.pause_seconds() == 0.2


def test_a_run_that_lasted_longer_than_the_longest_pause_starts_the_pauses_over() -> None:
    """For loops that only learn of a failure (the cron worker): a long healthy run counts."""
    backoff = Backoff(log, "worker", first=0.5, cap=30.0)
    for _ in range(4):
        backoff.note_run(0.1, RedisConnectionError("away"))
    assert backoff.pause_seconds() == 8.0
    backoff.note_run(29.0, RedisConnectionError("away again"))
    assert backoff.pause_seconds() == 16.0  # a short run: still the same series
    backoff.note_run(3600.0, RedisConnectionError("away after an hour"))
    assert backoff.pause_seconds() == 1.0


def test_a_backend_away_is_a_warning_and_a_bug_is_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff(log, "event relay")
    with caplog.at_level(logging.WARNING, logger=log.name):
        backoff.note(RedisConnectionError("connection refused"))
        try:
            raise KeyError("bug")
        except KeyError as bug:
            backoff.note(bug)
    away, bug_record = caplog.records
    assert away.levelno == logging.WARNING and away.exc_info is None
    assert away.getMessage() == "event relay: connection refused; retrying (attempt 1)"
    assert bug_record.levelno == logging.ERROR
    assert bug_record.getMessage() == "event relay failed; retrying (attempt 2)"
    assert bug_record.exc_info is not None and bug_record.exc_info[0] is KeyError


class _RecordedPauses(Backoff):
    """Records its pauses instead of sleeping."""

    paused: list[float]

    async def wait(self) -> None:
        self.paused.append(self.pause_seconds())


async def test_failed_reports_then_pauses() -> None:
    backoff = _RecordedPauses(log, "loop", first=0.1, cap=5.0)
    backoff.paused = []
    await backoff.failed(OSError("gone"))
    await backoff.failed(OSError("still gone"))
    assert backoff.failures == 2
    assert backoff.paused == [0.2, 0.4]


def test_an_outage_is_one_warning_and_its_end_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """A loop retrying every few seconds through a long outage must not fill the log."""
    backoff = Backoff(log, "event relay")
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(5):
            backoff.note(RedisConnectionError("connection refused"))
        backoff.succeeded()
        backoff.note(RedisConnectionError("away again"))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "event relay: connection refused; retrying (attempt 1)"),
        (logging.INFO, "event relay: working again after 5 attempts"),
        (logging.WARNING, "event relay: away again; retrying (attempt 1)"),
    ]


async def test_cancelled_ends_a_task_that_lost_its_first_cancellation() -> None:
    """As a redis-py read can lose a cancellation: the task goes on; a second one ends it."""

    async def stubborn() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # the first cancellation is swallowed here
        await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await cancelled([task])
    assert task.cancelled()
