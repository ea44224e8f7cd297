"""Start Rasa (same arguments as the `rasa` command) without eight costs that profiling found.

Measured with py-spy on the Rasa server (docs/profiling.md):
1. Every action server reply is checked with `jsonschema.validate`, which re-checks the schema
   itself against the JSON-Schema meta-schema on every call: over half of the time per message.
   Here the validator is built once; replies are still validated against the same schema.
2. Reading a conversation from the store looks up each event's class by scanning every
   subclass of Event, for every event: a third of the time in a long conversation. Here the
   lookup is a dictionary built once (same classes, same errors).
3. Each action call sends the whole conversation to the action server, which grows with every
   turn. This assistant's actions read only the latest message and the last few turns, so only
   the last ACTION_EVENTS_SENT events are sent.
4. The list of a conversation's applied events is rebuilt from the first event several times per
   message. Here it is extended with the events added since the last time, unless one of them
   can undo earlier ones (then Rasa's own method runs, as before).
5. Every call to the action server opens a new HTTP client session and a new connection. Here
   each endpoint keeps one session per event loop, whose idle connections are reused for
   KEEP_ALIVE_SECONDS (shorter than the action server's own 5 s, so a connection the server is
   closing is never reused).
6. Each message runs the model graph three times (understanding, then two predictions) through
   dask, whose scheduler costs as much again as the components it calls. Here the same nodes
   are called in an order computed once per set of targets and inputs, with the same arguments,
   results and errors.
7. The intent classifier copies and joins the features of each word and of the whole message
   (several sparse-matrix conversions), then uses only the latter. Here one message with only
   sparse features has its sentence features joined once; the classifier sees the same matrix.
8. TensorFlow imports jax when it is installed (an optional import in tensorflow/lite/python/
   util.py); nothing in this server uses it, and it costs 65 to 100 MB of memory. Here it is not
   imported (this module must be imported before Rasa for that).

Start-up checks (security_arguments): Rasa's HTTP API is off unless RASA_ENABLE_API=true, and
then it needs a JWT signed with RASA_JWT_SECRET (HS256, or RASA_JWT_METHOD): the launcher refuses
to start with the API on and no secret, or with --auth-token (a token in the query string ends
up in logs). The secret is handed to Rasa inside this process, so it is never on a command line.
CORS for the API: only the origins in RASA_CORS_ORIGINS (comma-separated, no "*").

    python -m scripts.rasa_server run --model ... (as `rasa run ...`)
"""

import asyncio
import itertools
import os
import sys
from functools import lru_cache
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Text, Tuple, Type

sys.modules.setdefault("jax", None)  # fix 8: `import jax` raises ImportError, which TensorFlow expects

import aiohttp  # noqa: E402  (and every import below: after fix 8)
import numpy as np
import rasa
import rasa.shared.utils.common
import scipy.sparse
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.events import (
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.utils.endpoints import EndpointConfig

ACTION_EVENTS_SENT = 20
KEEP_ALIVE_SECONDS = 2.0


@lru_cache(maxsize=1)
def _action_reply_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
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
            headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
        )
        kept = self.__dict__["_kept_session"] = (loop, session)
    return _KeptSession(kept[1])


def _execution_order(runner: DaskGraphRunner, targets: Tuple[Text, ...], inputs: FrozenSet[Text]) -> List[Tuple[Text, List[Text]]]:
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


def run_graph_in_order(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
                       targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
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


_original_create_x = LogisticRegressionClassifier._create_X


def classifier_input(self: LogisticRegressionClassifier, messages: List[Any]) -> Any:
    """LogisticRegressionClassifier._create_X: for one message with only sparse features, one concatenation."""
    if len(messages) == 1:
        sentence = [feature.features for feature in messages[0].features
                    if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE]
        if sentence and all(scipy.sparse.issparse(features) for features in sentence):
            # Rasa's concatenation with an empty float matrix makes the result float.
            dtype = np.result_type(*(features.dtype for features in sentence), np.float64)
            return scipy.sparse.hstack(sentence, format="csr", dtype=dtype)
    return _original_create_x(self, messages)


def apply() -> None:
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction._action_call_format = action_call_with_recent_events
    Event.resolve_by_type = staticmethod(resolve_by_type)
    DialogueStateTracker.applied_events = applied_events
    EndpointConfig.session = kept_session
    DaskGraphRunner.run = run_graph_in_order
    LogisticRegressionClassifier._create_X = classifier_input


class StartupRefused(SystemExit):
    pass


def _has(argv: Sequence[str], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in argv)


def security_arguments(argv: Sequence[str], environ: Mapping[str, str]) -> List[str]:
    """The `rasa run` arguments with the API, JWT and CORS settings from the environment, or StartupRefused."""
    argv = list(argv)
    if len(argv) < 2 or argv[1] != "run" or (len(argv) > 2 and argv[2] == "actions"):
        return argv
    if _has(argv, "--auth-token") or _has(argv, "-t"):
        raise StartupRefused("Refusing to start: --auth-token is not allowed; the HTTP API takes a JWT (RASA_JWT_SECRET).")
    if environ.get("RASA_ENABLE_API", "").strip().lower() == "true" and not _has(argv, "--enable-api"):
        argv.append("--enable-api")
    if _has(argv, "--enable-api"):
        secret = environ.get("RASA_JWT_SECRET", "").strip()
        if not secret and not _has(argv, "--jwt-secret"):
            raise StartupRefused("Refusing to start: the HTTP API is on (RASA_ENABLE_API=true) but RASA_JWT_SECRET is not set.")
        if secret and not _has(argv, "--jwt-secret"):
            argv += ["--jwt-secret", secret, "--jwt-method", environ.get("RASA_JWT_METHOD", "").strip() or "HS256"]
    origins = [origin.strip() for origin in environ.get("RASA_CORS_ORIGINS", "").split(",") if origin.strip()]
    if "*" in origins or any(arg == "*" for arg in argv):
        raise StartupRefused("Refusing to start: CORS must name the allowed origins (RASA_CORS_ORIGINS), not '*'.")
    if origins and not _has(argv, "--cors"):
        argv += ["--cors", *origins]
    return argv


def main() -> None:
    sys.argv = security_arguments(sys.argv, os.environ)
    apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
