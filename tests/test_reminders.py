"""The due-soon cron: one crm.activity.due_soon per activity and due date, whoever runs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from app.data.engine import create_engine, create_session_factory
from app.services.activities.reminders import send_due_soon_reminders
from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import Api, Servers
from tests.test_events import events

WINDOW = timedelta(hours=24)
CREATE = """mutation($due: DateTime, $c: ID!) {
  createActivity(input: {type: TASK, subject: "Angebot nachfassen", companyId: $c, dueAt: $due}) { id } }"""


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def activity_due(api: Api, hours: float | None) -> str:
    company = await api.data('mutation { createCompany(input: {name: "Kunde"}) { id } }')
    due = None if hours is None else in_hours(hours)
    created = await api.data(CREATE, {"due": due, "c": company["createCompany"]["id"]})
    activity_id: str = created["createActivity"]["id"]
    return activity_id


async def reminded(api: Api) -> list[str]:
    return [e["entityId"] for e in await events(api, types=["crm.activity.due_soon"], first=200)]


async def test_only_open_activities_due_within_the_window_are_reminded(
    api: Api, sessions: Any
) -> None:
    soon = await activity_due(api, 2)
    await activity_due(api, 30)  # later than the window
    await activity_due(api, -1)  # overdue: no longer "due soon"
    await activity_due(api, None)
    done = await activity_due(api, 1)
    await api.data("mutation($id: ID!) { completeActivity(id: $id) { id } }", {"id": done})
    await send_due_soon_reminders(sessions, WINDOW)
    assert await reminded(api) == [soon]
    event = (await events(api, types=["crm.activity.due_soon"]))[0]
    assert event["actorId"] is None
    assert event["changes"]["subject"] == [None, "Angebot nachfassen"]
    assert event["changes"]["dueAt"][1] is not None


async def test_each_due_date_is_reminded_once_and_moving_it_rearms(api: Api, sessions: Any) -> None:
    activity = await activity_due(api, 2)
    await send_due_soon_reminders(sessions, WINDOW)
    await send_due_soon_reminders(sessions, WINDOW)
    assert await reminded(api) == [activity]
    move = "mutation($id: ID!, $d: DateTime) { updateActivity(id: $id, input: {dueAt: $d}) { version } }"
    moved = await api.data(move, {"id": activity, "d": in_hours(5)})
    await send_due_soon_reminders(sessions, WINDOW)
    assert await reminded(api) == [activity, activity]
    await api.data("mutation($id: ID!) { completeActivity(id: $id) { id } }", {"id": activity})
    await api.data(move, {"id": activity, "d": in_hours(6)})
    await send_due_soon_reminders(sessions, WINDOW)
    assert await reminded(api) == [activity, activity]
    # The reminder is not an edit: the version the user saw stays valid.
    current = await api.data("query($id: ID!) { activity(id: $id) { version } }", {"id": activity})
    assert current["activity"]["version"] == moved["updateActivity"]["version"] + 2


async def test_two_workers_at_once_remind_each_activity_once(api: Api, servers: Servers) -> None:
    activities = [await activity_due(api, 1 + n) for n in range(5)]
    engines = [create_engine(servers.database_url, pool_size=2) for _ in range(2)]
    workers = [create_session_factory(engine) for engine in engines]
    await asyncio.gather(*(send_due_soon_reminders(w, WINDOW) for w in workers for _ in range(2)))
    for engine in engines:
        await engine.dispose()
    assert sorted(await reminded(api)) == sorted(activities)


async def test_serve_runs_the_worker_in_process(api: Api, settings: Settings) -> None:
    activity = await activity_due(api, 3)
    application = create_app(settings, with_worker=True)
    async with application.router.lifespan_context(application), asyncio.timeout(20):
        while True:  # the cron runs at start-up
            if await reminded(api):
                break
            await asyncio.sleep(0.2)
    assert await reminded(api) == [activity]
