"""Open the conversation store that endpoints.yml points at (SQLite by default, or PostgreSQL)."""

from typing import Any, Dict

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import read_endpoints_from_path

EVENTS = SQLTrackerStore.SQLEvent.__table__


def store_settings(endpoints_file: str = "endpoints.yml") -> Dict[str, Any]:
    endpoints = read_endpoints_from_path(endpoints_file)
    config = endpoints.tracker_store
    if config is None or config.type != "SQL":
        raise SystemExit(f"{endpoints_file}: tracker_store must be type SQL for this tool (got {config and config.type})")
    settings = dict(config.kwargs)
    settings["host"] = settings.get("host") or config.url
    return settings


def open_store(endpoints_file: str = "endpoints.yml") -> sa.engine.Engine:
    settings = store_settings(endpoints_file)
    url = SQLTrackerStore.get_db_url(
        dialect=settings.get("dialect") or "sqlite",
        host=settings.get("host") or None,
        port=settings.get("port") or None,
        db=settings.get("db") or "rasa.db",
        username=settings.get("username") or None,
        password=settings.get("password") or None,
        query=settings.get("query"),
    )
    return sa.create_engine(url)
