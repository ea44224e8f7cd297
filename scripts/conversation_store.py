"""Open the conversation store that endpoints.yml points at (SQLite by default, or PostgreSQL)."""

from pathlib import Path
from typing import Any, Dict

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import read_endpoints_from_path

EVENTS = SQLTrackerStore.SQLEvent.__table__


class NoConversations(Exception):
    """The store has not been created yet: nothing to review or purge."""


def store_settings(endpoints_file: str = "endpoints.yml") -> Dict[str, Any]:
    endpoints = read_endpoints_from_path(endpoints_file)
    config = endpoints.tracker_store
    if config is None or config.type not in ("SQL", "components.tracker_store.CachedSQLTrackerStore"):
        raise SystemExit(f"{endpoints_file}: tracker_store must be type SQL for this tool (got {config and config.type})")
    settings = dict(config.kwargs)
    settings["host"] = settings.get("host") or config.url
    return settings


def open_store(endpoints_file: str = "endpoints.yml") -> sa.engine.Engine:
    """An engine on the store, or SystemExit with a clear message when there is none yet."""
    settings = store_settings(endpoints_file)
    if (settings.get("dialect") or "sqlite") == "sqlite" and not Path(settings.get("db") or "rasa.db").exists():
        raise NoConversations(f"No conversations yet: the store {settings.get('db')} does not exist (it is made by `make run`).")
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
