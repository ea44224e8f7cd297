"""Rasa's Redis lock store, made safe for several replicas: atomic updates and leases.

With several replicas, two messages of one conversation can reach two replicas at once; the
lock store makes the second wait until the first is handled (Rasa's ticket lock, kept in
Redis). Rasa's RedisLockStore reads a conversation's lock, changes it and writes it back in
separate commands, so two replicas can both take ticket N (both answer at once, and the second
to save loses its events: SQLTrackerStore.save stores only the events beyond those already in
the database), or one replica deletes the lock while the other has just queued in it (the
other's turn fails with LockError). And a replica that dies holding a ticket blocks its
conversation until the ticket's fixed lifetime (60 s) runs out.

Here, as Rasa's store but:
- every change of a lock is one Redis transaction (WATCH/MULTI/EXEC, retried on conflict);
- a ticket is a lease of `lease_seconds` (default 3), renewed every third of that while its
  turn waits or runs, so a turn may take as long as it needs, and a dead replica's ticket
  frees its conversation within `lease_seconds` (the next message of that conversation waits
  for it; Rasa's fixed 60 s would stall the conversation for a minute). A longer lease is safer
  against a replica too busy to renew in time, a shorter one frees a dead replica's
  conversations sooner; the key also expires by itself;
- turns of one conversation in the same replica queue in the replica first, so only one of them
  at a time takes a ticket; taking a ticket and finding the lock free is one transaction;
- a turn waiting for another replica checks after `poll_seconds` (0.05), then less and less often
  (at most every 0.25 s) instead of every second, and fails with LockError (the person gets the
  safety net's reply) if its ticket is gone (Redis restarted);
- connecting and each command give up after `socket_timeout` (1 s): the calls are
  synchronous, so a hung Redis must not hold the replica's event loop for long.
  A Redis that is down fails the turn at once, and channels/reply_guarantee.py answers.

endpoints.production.yml: type components.lock_store.LeasedRedisLockStore, url (host), port,
password, db, use_ssl, key_prefix, and optionally lease_seconds, poll_seconds, socket_timeout.
Values may be strings (from ${VARIABLES}); they are converted here.
"""

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Dict, Optional, Text, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

LEASE_SECONDS = 3.0
POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 0.25
SOCKET_TIMEOUT_SECONDS = 1.0
MAX_CONFLICTS = 100

T = TypeVar("T")
_UNCHANGED = object()


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("", "0", "false", "no", "off"):
            return False
        raise ValueError(f"not a yes/no value: {value!r}")
    return bool(value)


class LeasedRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **settings: Any) -> None:
        if endpoint_config is not None:
            settings = {"host": endpoint_config.url, **endpoint_config.kwargs, **settings}
        self.lease_seconds = float(settings.get("lease_seconds") or LEASE_SECONDS)
        self.poll_seconds = float(settings.get("poll_seconds") or POLL_SECONDS)
        timeout = float(settings.get("socket_timeout") or SOCKET_TIMEOUT_SECONDS)
        super().__init__(
            host=settings.get("host") or "localhost",
            port=int(settings.get("port") or 6379),
            db=int(settings.get("db") or 0),
            username=settings.get("username") or None,
            password=settings.get("password") or None,
            use_ssl=as_bool(settings.get("use_ssl", False)),
            ssl_certfile=settings.get("ssl_certfile") or None,
            ssl_keyfile=settings.get("ssl_keyfile") or None,
            ssl_ca_certs=settings.get("ssl_ca_certs") or None,
            key_prefix=settings.get("key_prefix") or None,
            socket_timeout=timeout,
        )
        # Rasa's constructor sets no connect timeout: an unreachable host would block for minutes.
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = timeout
        self._local_locks: Dict[Text, Tuple[asyncio.Lock, int]] = {}

    # --- one transaction per change

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Any, T]]) -> T:
        """Apply `change` (lock or None -> (new lock, None to delete, or _UNCHANGED; result)) atomically."""
        key = self._key(conversation_id)
        with self.red.pipeline() as pipe:
            for _ in range(MAX_CONFLICTS):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new_lock, result = change(lock)
                    if new_lock is _UNCHANGED:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    if new_lock is None or not new_lock.tickets:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps(), px=int(self.lease_seconds * 3000))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise LockError(f"Too many concurrent changes to the lock of a conversation ({MAX_CONFLICTS}).")

    def _take_ticket(self, conversation_id: Text) -> Tuple[int, TicketLock]:
        """A new ticket, and the lock as it is with it (one transaction)."""

        def take(lock: Optional[TicketLock]) -> Tuple[TicketLock, Tuple[int, TicketLock]]:
            lock = lock or self.create_lock(conversation_id)
            return lock, (lock.issue_ticket(self.lease_seconds), lock)

        try:
            return self._change(conversation_id, take)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from error

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._take_ticket(conversation_id)[0]

    def renew(self, conversation_id: Text, ticket_number: int) -> bool:
        """Extend the lease of a ticket; False if it is gone."""

        def extend(lock: Optional[TicketLock]) -> Tuple[Any, bool]:
            ticket = lock._ticket_for_ticket_number(ticket_number) if lock else None
            if ticket is None:
                return _UNCHANGED, False
            ticket.expires = time.time() + self.lease_seconds
            return lock, True

        return self._change(conversation_id, extend)

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def release(lock: Optional[TicketLock]) -> Tuple[Any, None]:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_ticket_for(ticket_number)  # also drops expired tickets
            return lock, None  # deleted when no ticket is left

        self._change(conversation_id, release)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    # --- waiting and holding

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:

            def current(lock: Optional[TicketLock]) -> Tuple[Any, Optional[TicketLock]]:
                if lock is None:
                    return _UNCHANGED, None
                lock.remove_expired_tickets()
                return lock, lock

            lock = self._change(conversation_id, current)
            if lock is None or lock._ticket_for_ticket_number(ticket) is None:
                raise LockError("The ticket for this conversation is gone (has Redis restarted?).")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            wait_time_in_seconds = min(wait_time_in_seconds * 1.5, MAX_POLL_SECONDS)

    async def _keep_renewing(self, conversation_id: Text, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if not self.renew(conversation_id, ticket):
                    return
            except (redis.RedisError, LockError) as error:
                logger.warning("Could not renew a conversation lock (%s).", type(error).__name__)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock (lease renewed meanwhile); Rasa's lifetime and wait are replaced by the lease and poll."""
        async with self._in_this_process(conversation_id):
            ticket, lock = self._take_ticket(conversation_id)
            renewing = asyncio.ensure_future(self._keep_renewing(conversation_id, ticket))
            try:
                if lock.is_locked(ticket):  # another replica is before us: wait (usually nobody is)
                    lock = await self._acquire_lock(conversation_id, ticket, self.poll_seconds)
                yield lock
            finally:
                renewing.cancel()
                try:
                    self.cleanup(conversation_id, ticket)
                except (redis.RedisError, LockError) as error:  # the lease runs out by itself
                    logger.warning(
                        "Could not release a conversation lock (%s); it expires in %.0f s.",
                        type(error).__name__,
                        self.lease_seconds,
                    )

    @asynccontextmanager
    async def _in_this_process(self, conversation_id: Text) -> AsyncGenerator[None, None]:
        """Turns of one conversation in this replica queue here first (FIFO), so only one of them at a
        time holds or waits for a Redis ticket: many messages at once on one socket cost no Redis polling."""
        local, waiting = self._local_locks.get(conversation_id, (None, 0))
        if local is None:
            local = asyncio.Lock()
        self._local_locks[conversation_id] = (local, waiting + 1)
        try:
            async with local:
                yield
        finally:
            local, waiting = self._local_locks[conversation_id]
            if waiting <= 1:
                del self._local_locks[conversation_id]
            else:
                self._local_locks[conversation_id] = (local, waiting - 1)
