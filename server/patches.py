"""Rasa patches (fixes 1 to 15; fix 7 was removed) that remove costs profiling found (docs/profiling.md).

Each patch replaces one attribute of a Rasa class with a function here that keeps Rasa's
behaviour (the same results and errors) and was checked against the Rasa source of `checked_with`.
`apply()` refuses another Rasa version (the launcher says what to re-check) unless
ALLOW_UNCHECKED_RASA_PATCHES=1; `status()` says which patches are in effect in this process
(GET /webhooks/model/status shows it for the running server).

1. Every action server reply is checked with `jsonschema.validate`, which re-checks the schema
   itself against the JSON-Schema meta-schema on every call: over half of the time per message.
   Here the validator is built once, and a reply is checked first with one small validator per
   event type (the branches of the schema's `oneOf`); only a reply those reject goes through the
   whole schema, which gives Rasa's own error. Replies are still validated against the same schema.
2. Reading a conversation from the store looks up each event's class by scanning every
   subclass of Event, for every event: a third of the time in a long conversation. Here the
   lookup is a dictionary built once (same classes, same errors).
3. Each action call sends the whole conversation to the action server, which grows with every
   turn. This assistant's actions read only the latest message and the last few turns, so only
   the last ACTION_EVENTS_SENT events are sent.
4. The list of a conversation's applied events is rebuilt from the first event several times per
   message. Here it is extended with the events added since the last time, unless one of them
   can undo earlier ones, or the tracker keeps only its latest events (max_event_history): then
   Rasa's own method runs, as before.
5. Every call to the action server opens a new HTTP client session and a new connection. Here
   each endpoint keeps one session per event loop, whose idle connections are reused for
   KEEP_ALIVE_SECONDS (shorter than the action server's own 5 s, so a connection the server is
   closing is never reused). The call's JSON is written with ujson (the same JSON, faster).
6. Each message runs the model graph three times (understanding, then two predictions) through
   dask, whose scheduler costs as much again as the components it calls. Here the same nodes
   are called in an order computed once per set of targets and inputs, with the same arguments,
   results and errors.
7. (Removed: it joined the input of Rasa's LogisticRegressionClassifier once; the pipeline now
   uses its own classifier, components/intent_classifier.py, which builds its input directly.)
8. TensorFlow imports jax when it is installed (an optional import in tensorflow/lite/python/
   util.py); nothing in this server uses it, and it costs 65 to 100 MB of memory. Here it is not
   imported: this module must be imported before Rasa for that.
9. TensorFlow (about 350 MB of memory and seconds of start-up) is imported by a server that never
   uses it, by two routes: loading a model builds the schema of its training graph, which imports
   every training component's class (Rasa's recipe validator imports DIETClassifier and
   TEDPolicy), and Rasa's entity extractor base imports `rasa.utils.train_utils`, which it uses
   only in training. Here the training schema is built when first read (never, when serving), and
   `rasa.utils.train_utils` is imported on first use; both are the same as before once used.
10. Whether the domain is empty is worked out again on every message (from its dictionary form).
    A domain does not change once loaded, so here the answer is kept on the domain.
11. The sentence encoder (core/encoder.py) takes several milliseconds for a text it has not seen,
    and ran in the event loop's thread, where every other conversation waited for it. Here a
    message is understood with the encoder allowed only cached embeddings; when a component needs
    new ones (encoder.EmbeddingNeeded), they are computed in the encoder's own thread while the
    loop serves others, and the message is understood again (the same result as inline).
12. The loaded model is millions of objects that Python's cycle collector scanned again in every
    full collection: pauses of about 300 ms under load. Here, once the model is loaded (and after
    a reload, channels/model_reload.py), garbage is collected and what is alive is frozen
    (gc.freeze): it stays, but is no longer scanned.
13. Training writes the model package with tarfile's gzip level 9, a tenth of a full training for
    an archive no smaller than at gzip's default level 6, which is used here (`make train` runs
    through the launcher, so training gets these patches too).
14. The message processor deep-copies the events of every action, and the message's text and
    entities, to hand them to debug log lines, which are dropped unless the log level is DEBUG.
    Here the copy is made only when the log level is DEBUG.
15. Before running each action, the processor copies the conversation's tracker, which applies
    every event of the conversation again to a new one: 0.3 ms per copy at 100 turns, two copies
    per message. Here only the events whose effect no later event undoes are applied, when every
    event is of the kinds a turn of this assistant holds (the same tracker; a SlotSet of a slot the
    domain lacks logs its error once, not once per event); otherwise Rasa's copy.
"""

import asyncio
import concurrent.futures
import copy
import gc
import importlib
import importlib.machinery
import inspect
import itertools
import logging
import math
import operator
import os
import sys
import types
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Text, Tuple, Type

sys.modules.setdefault("jax", None)  # fix 8: `import jax` raises ImportError, which TensorFlow expects
TRAIN_UTILS = "rasa.utils.train_utils"


def _import_on_first_use(name: str) -> None:
    """Fix 9: put a stand-in for the module `name` in sys.modules that imports the real one when
    one of its attributes is first read, and hands on every read after that."""
    stand_in = types.ModuleType(name, f"{name}, imported on first use (server/patches.py, fix 9)")
    stand_in.__spec__ = importlib.machinery.ModuleSpec(name, None)

    def __getattr__(attribute: str) -> Any:
        if attribute.startswith("__"):  # what the import system asks of a module, e.g. __path__
            raise AttributeError(attribute)
        real = sys.modules.get(name)
        if real is None or real is stand_in:
            sys.modules.pop(name, None)
            real = importlib.import_module(name)
        return getattr(real, attribute)

    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules.setdefault(name, stand_in)


_import_on_first_use(TRAIN_UTILS)

# ruff: noqa: E402  (every import below comes after fixes 8 and 9)
import aiohttp
import rasa
import rasa.core.processor
import rasa.core.run
import rasa.engine.storage.local_model_storage
import rasa.shared.utils.common
import ujson
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.storage import ModelMetadata
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from tarsafe import TarSafe

from core import encoder

ACTION_EVENTS_SENT = 20
KEEP_ALIVE_SECONDS = 2.0


@lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@lru_cache(maxsize=1)
def _quick_reply_checks() -> Optional[Tuple[Any, Any, Dict[Text, Any]]]:
    """Validators for a reply without its events, for what every event needs, and for each event type.

    Rasa's schema says an event must match exactly one of 23 schemas (`oneOf`), each of which
    differs from the others in the constant its "event" must be: checking an event against all 23
    builds 22 failures (most of the time per reply). An event whose "event" is one type's constant
    matches that type's schema or none, so checking that one alone gives the same verdict. None
    when the schema is not of that shape (then every reply gets the whole schema).
    """
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    event = schema["properties"]["events"].pop("items")
    branches = event.pop("oneOf", [])
    types = [branch.get("properties", {}).get("event", {}).get("const") for branch in branches]
    if not branches or "event" not in event.get("required", []) or None in types or len(set(types)) < len(types):
        return None

    def validator(part: Dict[Text, Any]) -> Any:
        return validator_for(part)(part)

    return validator(schema), validator(event), dict(zip(types, map(validator, branches), strict=True))


def _valid_quickly(result: Any) -> bool:
    """True only if Rasa's schema accepts `result` (False says nothing: then the whole schema decides)."""
    checks = _quick_reply_checks()
    if checks is None or not checks[0].is_valid(result):
        return False
    _, every_event, by_type = checks
    for event in result.get("events") or []:
        kind = event.get("event") if isinstance(event, dict) else None
        if not isinstance(kind, str) or kind not in by_type:
            return False
        if not (every_event.is_valid(event) and by_type[kind].is_valid(event)):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    if _valid_quickly(result):
        return True
    try:
        _action_reply_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid."
        )
        raise error


@lru_cache(maxsize=1)
def _event_classes() -> Dict[Text, Type[Event]]:
    classes: Dict[Text, Type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    found = _event_classes().get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def action_call_with_recent_events(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
    """Rasa's action call (RemoteAction._action_call_format) with only the latest events."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in list(tracker.events)[-ACTION_EVENTS_SENT:]]
    call = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        call["domain"] = domain.as_dict()
    return call


_original_applied_events = DialogueStateTracker.applied_events
_RESETS = (Restarted, SessionStarted)
_UNDOERS = (ActionReverted, UserUtteranceReverted, ActiveLoop)


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """Rasa's applied_events, extended incrementally while only plain events are appended."""
    events, cached = self.events, self.__dict__.get("_applied_events_cache")
    if getattr(events, "maxlen", None) is not None:
        # With max_event_history the oldest events fall off the front: counting them cannot work.
        return _original_applied_events(self)
    if cached is None or cached[0] is not events or cached[1] > len(events) or cached[3]:
        applied = _original_applied_events(self)
        undoes = any(isinstance(event, _UNDOERS) for event in events)
        self.__dict__["_applied_events_cache"] = (events, len(events), applied, undoes)
        return list(applied)
    _, seen, applied, _ = cached
    new_events = list(itertools.islice(events, seen, None))
    if any(isinstance(event, _UNDOERS) for event in new_events):
        self.__dict__["_applied_events_cache"] = None
        return applied_events(self)
    for event in new_events:
        if isinstance(event, _RESETS):
            applied = []
        else:
            applied.append(event)
    self.__dict__["_applied_events_cache"] = (events, len(events), applied, False)
    return list(applied)


_original_is_empty = Domain.is_empty


def domain_is_empty_once(self: Domain) -> bool:
    """Rasa's Domain.is_empty, worked out once per domain (a domain is not changed once built)."""
    answer = self.__dict__.get("_is_empty")
    if answer is None:
        answer = self.__dict__["_is_empty"] = _original_is_empty(self)
    return answer


_original_tracker_copy = DialogueStateTracker.copy
# What a turn of this assistant adds to a conversation (tracker_copy_from_latest_events says what each sets).
TURN_EVENTS = frozenset(
    {SessionStarted, ActionExecuted, UserUttered, BotUttered, SlotSet, DefinePrevUserUtteredFeaturization}
)
_TIMESTAMP, _POSITION = operator.attrgetter("timestamp"), operator.itemgetter(0)


def tracker_copy_from_latest_events(self: DialogueStateTracker) -> DialogueStateTracker:
    """Rasa's DialogueStateTracker.copy: a new tracker with every event applied to it again. When
    every event is of a kind in TURN_EVENTS, each sets one thing (the latest message, bot utterance
    or action, one slot) that the next of its kind sets again, and the latest SessionStarted resets
    them all: so only the latest of each since then is applied, which gives the same tracker. (A
    DefinePrevUserUtteredFeaturization sets a flag on the user message before it, an event the copy
    shares, to the value it already holds: it is not applied again.) Otherwise (or with
    max_event_history, or a timestamp that is not a number) Rasa's copy runs."""
    events = self.events
    if (
        self._max_event_history is not None
        or not set(map(type, events)) <= TURN_EVENTS
        or math.isnan(sum(map(_TIMESTAMP, events), 0.0))  # Rasa's copy stops at a NaN timestamp
    ):
        return _original_tracker_copy(self)
    tracker = self.init_copy()  # a new tracker in its reset state, as after a SessionStarted
    tracker.events.extend(events)
    latest: Dict[Any, Tuple[int, Event]] = {}
    position = len(events)
    for event in reversed(events):
        position -= 1
        kind = type(event)
        if kind is SessionStarted:
            break
        if kind is DefinePrevUserUtteredFeaturization:
            continue
        latest.setdefault(event.key if kind is SlotSet else kind, (position, event))
    for _, event in sorted(latest.values(), key=_POSITION):
        event.apply_to(tracker)
    return tracker


RASA_LOGGER = logging.getLogger("rasa")


class CopyForDebugLogs(types.ModuleType):
    """Stands in for the `copy` module in rasa.core.processor, which uses it only to deep-copy what
    it hands to debug log lines (so that the log's anonymiser cannot change the real events): a
    copy when debug logging is on (Rasa sets its logger and its structlog filter from the same
    level); otherwise the line is dropped, and so is the copy."""

    def __init__(self) -> None:
        super().__init__("copy")

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        return copy.deepcopy(value, memo) if RASA_LOGGER.isEnabledFor(logging.DEBUG) else value


COPY_FOR_DEBUG_LOGS = CopyForDebugLogs()


class _KeptSession:
    """Stands in for `async with endpoint.session() as session`, without closing the session at the end."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *_exc_info: Any) -> None:
        return None


def kept_session(self: EndpointConfig) -> _KeptSession:
    """Rasa's EndpointConfig.session (same headers, auth and time-out), one per endpoint and event loop."""
    loop = asyncio.get_running_loop()
    kept = self.__dict__.get("_kept_session")
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
            json_serialize=ujson.dumps,
        )
        kept = self.__dict__["_kept_session"] = (loop, session)
    return _KeptSession(kept[1])


def _execution_order(
    runner: DaskGraphRunner, targets: Tuple[Text, ...], inputs: FrozenSet[Text]
) -> List[Tuple[Text, List[Text]]]:
    """The nodes dask would run for these targets and inputs (each after what it needs), with what each needs."""
    orders = runner.__dict__.setdefault("_execution_orders", {})
    key = (targets, inputs)
    if key not in orders:
        nodes = runner._graph_schema.minimal_graph_schema(list(targets)).nodes
        order: List[Tuple[Text, List[Text]]] = []
        placed = set(inputs)

        def place(name: Text) -> None:
            if name in placed or name not in nodes:
                return
            placed.add(name)
            needs = list(nodes[name].needs.values())
            for need in needs:
                place(need)
            order.append((name, needs))

        for name in nodes:
            place(name)
        orders[key] = order
    return orders[key]


def run_graph_in_order(
    self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
) -> Dict[Text, Any]:
    """DaskGraphRunner.run without dask: the same nodes called with the same arguments."""
    run_targets = targets if targets else self._graph_schema.target_names
    inputs = inputs or {}
    for value in inputs.values():
        if isinstance(value, str) and value in self._graph_schema.minimal_graph_schema(run_targets).nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema."
            )
    # dask hands a node each input as the tuple (name, value), and the name alone for a missing one.
    results: Dict[Text, Any] = {name: (name, value) for name, value in inputs.items()}
    try:
        for name, needs in _execution_order(self, tuple(run_targets), frozenset(inputs)):
            results[name] = self._instantiated_nodes[name](*(results.get(need, need) for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)


# The sentence encoder's own thread: it runs outside the GIL (a C engine), on the other core.
_ENCODER_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
ENCODER_ROUNDS = 3
_original_parse_message = MessageProcessor.parse_message


def _embedding_needed(error: Optional[BaseException]) -> Optional[encoder.EmbeddingNeeded]:
    while error is not None and not isinstance(error, encoder.EmbeddingNeeded):
        error = error.__cause__
    return error


async def parse_message_encoding_in_thread(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """Rasa's MessageProcessor.parse_message, with the sentence encoder run in its own thread."""
    for _ in range(ENCODER_ROUNDS):
        try:
            with encoder.cached_only():
                return await _original_parse_message(self, message, tracker, only_output_properties)
        except GraphComponentException as error:
            needed = _embedding_needed(error)
            if needed is None:
                raise
        await asyncio.get_running_loop().run_in_executor(_ENCODER_THREAD, encoder.embed, needed.texts)
    return await _original_parse_message(self, message, tracker, only_output_properties)


_original_load_agent_on_start = rasa.core.run.load_agent_on_start


def settle_memory() -> None:
    """Collect what is garbage, then keep every object alive now out of later collections (gc.freeze)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def load_agent_on_start_then_settle(*args: Any, **kwargs: Any) -> Any:
    """Rasa's load_agent_on_start, then settle_memory(): the model stays out of the collector's scans."""
    agent = await _original_load_agent_on_start(*args, **kwargs)
    settle_memory()
    return agent


MODEL_GZIP_LEVEL = 6


class TarSafeAtGzipDefault:
    """Rasa's TarSafe for the model package, whose archive is written at gzip's default level (6)
    instead of tarfile's 9: the same files, an archive a few per cent larger, written in a third
    of the time."""

    @staticmethod
    def open(name: Any = None, mode: str = "r", *args: Any, **kwargs: Any) -> TarSafe:
        if mode in ("w:gz", "x:gz"):
            kwargs.setdefault("compresslevel", MODEL_GZIP_LEVEL)
        return TarSafe.open(name, mode, *args, **kwargs)


class _SchemaOnFirstUse(GraphSchema):
    """A graph schema built from its serialized form when its nodes are first read."""

    def __init__(self, serialized: Dict[Text, Any]) -> None:
        self._serialized = serialized
        self._nodes: Optional[Dict[Text, Any]] = None

    @property  # type: ignore[override]
    def nodes(self) -> Dict[Text, Any]:
        if self._nodes is None:  # a copy: GraphSchema.from_dict replaces the class names in what it reads
            self._nodes = GraphSchema.from_dict(copy.deepcopy(self._serialized)).nodes
        return self._nodes


_original_metadata_from_dict = ModelMetadata.from_dict.__func__  # type: ignore[attr-defined]


def metadata_with_train_schema_on_first_use(cls: Type[ModelMetadata], serialized: Dict[Text, Any]) -> ModelMetadata:
    """Rasa's ModelMetadata.from_dict, with the training graph's schema built when first read."""
    metadata = _original_metadata_from_dict(cls, dict(serialized, train_schema={"nodes": {}}))
    metadata.train_schema = _SchemaOnFirstUse(serialized["train_schema"])
    return metadata


ALLOW_UNCHECKED = "ALLOW_UNCHECKED_RASA_PATCHES"


class UncheckedRasaVersion(RuntimeError):
    """The installed Rasa is not the version the patches were checked against."""


@dataclass(frozen=True)
class Patch:
    number: int
    what: str
    owner: Any
    attribute: str
    replacement: Callable[..., Any]
    checked_with: str = "3.6.21"

    @property
    def target(self) -> str:
        if isinstance(self.owner, types.ModuleType):
            return f"{self.owner.__name__}.{self.attribute}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.attribute}"

    def apply(self) -> None:
        setattr(self.owner, self.attribute, self.replacement)

    def in_effect(self) -> bool:
        current = inspect.getattr_static(self.owner, self.attribute)
        return current is self.replacement or getattr(current, "__func__", None) is getattr(
            self.replacement, "__func__", self.replacement
        )


PATCHES: Tuple[Patch, ...] = (
    Patch(
        1,
        "action replies validated with a validator built once",
        RemoteAction,
        "_validate_action_result",
        validate_action_result,
    ),
    Patch(2, "event classes looked up in a dictionary", Event, "resolve_by_type", staticmethod(resolve_by_type)),
    Patch(
        3,
        "only the latest events sent to the action server",
        RemoteAction,
        "_action_call_format",
        action_call_with_recent_events,
    ),
    Patch(4, "applied events extended incrementally", DialogueStateTracker, "applied_events", applied_events),
    Patch(5, "one kept HTTP session per action endpoint", EndpointConfig, "session", kept_session),
    Patch(6, "the model graph run without dask", DaskGraphRunner, "run", run_graph_in_order),
    Patch(
        9,
        "the training graph's schema built when first read",
        ModelMetadata,
        "from_dict",
        classmethod(metadata_with_train_schema_on_first_use),
    ),
    Patch(10, "whether the domain is empty worked out once", Domain, "is_empty", domain_is_empty_once),
    Patch(
        11,
        "the sentence encoder run in its own thread",
        MessageProcessor,
        "parse_message",
        parse_message_encoding_in_thread,
    ),
    Patch(
        12,
        "the loaded model kept out of the garbage collector's scans",
        rasa.core.run,
        "load_agent_on_start",
        load_agent_on_start_then_settle,
    ),
    Patch(
        13,
        "the model package written at gzip's default level",
        rasa.engine.storage.local_model_storage,
        "TarSafe",
        TarSafeAtGzipDefault,
    ),
    Patch(14, "no copies for debug log lines that are dropped", rasa.core.processor, "copy", COPY_FOR_DEBUG_LOGS),
    Patch(
        15,
        "a tracker copied without applying again what later events undo",
        DialogueStateTracker,
        "copy",
        tracker_copy_from_latest_events,
    ),
)
JAX_CHECKED_WITH = "3.6.21"


def jax_kept_out() -> bool:
    """Fix 8: TensorFlow's optional `import jax` finds nothing (and jax was never loaded)."""
    return "jax" in sys.modules and sys.modules["jax"] is None


def unchecked(version: str = rasa.__version__) -> List[str]:
    """The patches (by number) not checked against this Rasa version."""
    names = [f"fix {patch.number} ({patch.target})" for patch in PATCHES if patch.checked_with != version]
    if JAX_CHECKED_WITH != version:
        names.append("fix 8 (jax kept out of TensorFlow)")
    return names


def apply(version: str = rasa.__version__, environ: Optional[Dict[str, str]] = None) -> None:
    """Apply every patch, or UncheckedRasaVersion when Rasa is not the version they were checked against."""
    environ = dict(os.environ) if environ is None else environ
    not_checked = unchecked(version)
    if not_checked and environ.get(ALLOW_UNCHECKED, "").strip() != "1":
        raise UncheckedRasaVersion(
            f"Rasa {version} is installed, but server/patches.py was checked against Rasa "
            f"{PATCHES[0].checked_with}. Re-check each of these against Rasa {version}'s source, then "
            f"update its checked_with: {'; '.join(not_checked)}. To start anyway, set {ALLOW_UNCHECKED}=1."
        )
    for patch in PATCHES:
        patch.apply()


def status() -> Dict[str, Any]:
    """Which patches are in effect in this process, and the Rasa version."""
    patches = {f"fix {patch.number}": patch.in_effect() for patch in PATCHES}
    patches["fix 8"] = jax_kept_out()
    return {
        "rasa": rasa.__version__,
        "patches": dict(sorted(patches.items())),
        "tensorflow_loaded": "tensorflow" in sys.modules,
    }
