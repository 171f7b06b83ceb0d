"""Loops that must keep running for the life of the process (the event relay, the event hub,
the ERP push listener, the cron worker inside a server): how they pause and report after a
failure, in one place."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

# A backend away or slow: expected, worth a warning. Anything else is a bug, logged with its
# traceback; the loop still goes on, since a bug must not stop it for good.
BACKEND_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    OSError,
    SQLAlchemyError,
    TimeoutError,
)


class Backoff:
    """Pauses that double with each failure in a row, up to `cap`; a success starts over."""

    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        first: float = 0.1,
        cap: float = 5.0,
        expected: tuple[type[BaseException], ...] = BACKEND_ERRORS,
    ) -> None:
        self.log, self.what = log, what
        self.first, self.cap, self.expected = first, cap, expected
        self.failures = 0
        self.warned = False  # this outage has had its warning

    def succeeded(self) -> None:
        if self.failures and self.warned:
            self.log.info("%s: working again after %d attempts", self.what, self.failures)
        self.failures = 0
        self.warned = False

    def note(self, error: BaseException) -> None:
        """Count and report a failure (without pausing: see `wait`). A backend away is one
        warning per outage (its further attempts at debug level: a loop retrying every few
        seconds must not fill the log), then one line when it works again."""
        self.failures += 1
        if isinstance(error, self.expected):
            level = logging.DEBUG if self.warned else logging.WARNING
            self.warned = True
            self.log.log(level, "%s: %s; retrying (attempt %d)", self.what, error, self.failures)
        else:
            self.log.error(
                "%s failed; retrying (attempt %d)", self.what, self.failures, exc_info=error
            )

    def note_run(self, ran_seconds: float, error: BaseException) -> None:
        """The failure of a run that lasted `ran_seconds`, for loops with no success to
        report: one that ran longer than the longest pause was healthy, so the pauses start
        over rather than go on from failures long past."""
        if ran_seconds > self.cap:
            self.succeeded()
        self.note(error)

    def pause_seconds(self) -> float:
        return min(self.first * 2.0**self.failures, self.cap)

    async def wait(self) -> None:
        await asyncio.sleep(self.pause_seconds())

    async def failed(self, error: BaseException) -> None:
        """Report the failure, then pause before the next attempt."""
        self.note(error)
        await self.wait()


async def cancelled(tasks: list[asyncio.Task[None]], *, interval: float = 0.1) -> None:
    """Cancel `tasks` and wait until they have ended, cancelling again while they have not. A
    pub/sub listener cancelled inside redis-py's read of a message (5.3) was seen to go on
    and wait out its next read (10 s of every shutdown with the database down): the second
    cancellation ends it."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=interval)
