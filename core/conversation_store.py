"""Open the conversation store that endpoints.yml points at (SQLite by default, or PostgreSQL)."""

import os
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import read_endpoints_from_path

from server.settings import environment

EVENTS = SQLTrackerStore.SQLEvent.__table__


class NoConversations(Exception):
    """The store has not been created yet: nothing to review or purge."""


def store_settings(endpoints_file: str = "endpoints.yml") -> Dict[str, Any]:
    """The tracker_store settings of the endpoints file, its ${VARIABLES} from the environment or, when
    unset, server/settings.py's defaults (as `make run` gives them: the SQLite file var/conversations.db)."""
    unset = {name: value for name, value in environment().items() if not os.environ.get(name)}
    os.environ.update(unset)
    try:
        endpoints = read_endpoints_from_path(endpoints_file)
    finally:
        for name in unset:
            del os.environ[name]
    config = endpoints.tracker_store
    if config is None or config.type not in ("SQL", "components.tracker_store.CachedSQLTrackerStore"):
        raise SystemExit(
            f"{endpoints_file}: tracker_store must be type SQL for this tool (got {config and config.type})"
        )
    settings = dict(config.kwargs)
    settings["host"] = settings.get("host") or config.url
    return settings


def open_store(endpoints_file: str = "endpoints.yml") -> sa.engine.Engine:
    """An engine on the store, or SystemExit with a clear message when there is none yet."""
    settings = store_settings(endpoints_file)
    if (settings.get("dialect") or "sqlite") == "sqlite" and not Path(settings.get("db") or "rasa.db").exists():
        raise NoConversations(
            f"No conversations yet: the store {settings.get('db')} does not exist (it is made by `make run`)."
        )
    url = SQLTrackerStore.get_db_url(
        dialect=settings.get("dialect") or "sqlite",
        host=settings.get("host") or None,
        port=settings.get("port") or None,
        db=settings.get("db") or "rasa.db",
        username=settings.get("username") or None,
        password=settings.get("password") or None,
        query=settings.get("query"),
    )
    engine = sa.create_engine(url)
    if not sa.inspect(engine).has_table(EVENTS.name):
        raise NoConversations("No conversations yet: the store has no events table (it is made by `make run`).")
    return engine


def store_label(endpoints_file: str = "endpoints.yml") -> str:
    """Which store, for a report's header: the dialect and database name, never a host or password."""
    settings = store_settings(endpoints_file)
    return f"{settings.get('dialect') or 'sqlite'} {settings.get('db') or 'rasa.db'}"


def stream_events(
    engine: sa.engine.Engine,
    since: Optional[float] = None,
    until: Optional[float] = None,
    user: bool = True,
    actions: Sequence[str] = (),
    slots: Sequence[str] = (),
    batch: int = 2000,
) -> Iterator[Any]:
    """The store's events in the order they were stored, `batch` rows at a time (a server-side cursor on
    PostgreSQL; SQLite's cursor reads as it goes), never the whole table at once. Rows: sender_id,
    type_name, timestamp, intent_name, action_name, data (JSON; None for action events). Only the
    person's messages (`user`), the named actions and the named slots' SlotSet events, whose name
    Rasa's SQL store keeps in the action_name column; from `since` (included) to `until` (excluded),
    Unix times."""
    kinds = []
    if user:
        kinds.append(EVENTS.c.type_name == "user")
    if actions:
        kinds.append(sa.and_(EVENTS.c.type_name == "action", EVENTS.c.action_name.in_(list(actions))))
    if slots:
        kinds.append(sa.and_(EVENTS.c.type_name == "slot", EVENTS.c.action_name.in_(list(slots))))
    if not kinds:
        return
    data = sa.case((EVENTS.c.type_name == "action", sa.null()), else_=EVENTS.c.data)
    query = sa.select(
        EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.action_name, data
    ).where(sa.or_(*kinds))
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since)
    if until is not None:
        query = query.where(EVENTS.c.timestamp < until)
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(query.order_by(EVENTS.c.id))
        try:
            yield from result
        finally:
            result.close()
