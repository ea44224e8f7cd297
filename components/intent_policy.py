"""A dialogue policy that answers each intent with the one action its rule names, in constant time.

Every turn of this assistant is "intent -> one action -> listen", so the policy needs only the
latest message: unlike RulePolicy it does not re-read the whole conversation on every turn, so a
long conversation is answered as fast as a new one. It learns the intent -> action table from
the rules in data/rules/ (two different actions for one intent is a training error), answers an
intent it has no rule for with the fallback action, and listens after every action.

The one exception is danger now decided with the conversation (core/danger.py, `escalates`): a
follow-up that turns one of the last CONTEXT_TURNS messages of the session into danger now gets
the action of the `emergency` intent, whatever its own intent.
"""

import json
from collections import defaultdict
from typing import Any, Dict, List, Optional, Set, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import (
    ACTION_BACK_NAME,
    ACTION_LISTEN_NAME,
    ACTION_RESTART_NAME,
    ACTION_SESSION_START_NAME,
    RULE_SNIPPET_ACTION_NAME,
    USER_INTENT_BACK,
    USER_INTENT_RESTART,
    USER_INTENT_SESSION_START,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Restarted, SessionStarted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import InvalidConfigException

from core.danger import escalates

TABLE_FILE = "intent_actions.json"
EMERGENCY_INTENT = "emergency"
CONTEXT_TURNS = 3
# Rasa's own intents, answered by its own actions whatever the rules say.
RASA_DEFAULTS = {
    USER_INTENT_RESTART: ACTION_RESTART_NAME,
    USER_INTENT_BACK: ACTION_BACK_NAME,
    USER_INTENT_SESSION_START: ACTION_SESSION_START_NAME,
}


def learn_table(trackers: List[TrackerWithCachedStates]) -> Dict[str, str]:
    """intent -> the action that follows it in the rules and stories; conflicts are errors."""
    seen: Dict[str, Set[str]] = defaultdict(set)
    for tracker in trackers:
        intent: Optional[str] = None
        for event in tracker.events:
            if isinstance(event, UserUttered):
                intent = event.intent_name
            elif isinstance(event, ActionExecuted) and intent:
                if event.action_name not in (ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME, None):
                    seen[intent].add(event.action_name)
                intent = None
    conflicts = {intent: sorted(actions) for intent, actions in seen.items() if len(actions) > 1}
    if conflicts:
        raise InvalidConfigException(
            f"IntentActionPolicy: these intents are followed by different actions in the rules or stories: {conflicts}"
        )
    return {intent: actions.pop() for intent, actions in seen.items()}


def earlier_verdicts(tracker: DialogueStateTracker, turns: int = CONTEXT_TURNS) -> List[Optional[Dict[str, Any]]]:
    """The danger verdicts of the person's messages before the latest one, newest first, in this session."""
    found: List[Optional[Dict[str, Any]]] = []
    seen_latest = False
    for event in reversed(tracker.events):
        if isinstance(event, (SessionStarted, Restarted)):
            break
        if isinstance(event, UserUttered):
            if seen_latest:
                found.append(event.parse_data.get("danger"))
                if len(found) == turns:
                    break
            seen_latest = True
    return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class IntentActionPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 6, "core_fallback_action_name": "action_default_fallback"}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        table: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context)
        self.table = dict(table or {})

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        self.table = learn_table(training_trackers)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TABLE_FILE).write_text(json.dumps(self.table, sort_keys=True), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentActionPolicy":
        with model_storage.read_from(resource) as directory:
            table = json.loads((directory / TABLE_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, execution_context, table=table)

    def next_action(self, tracker: DialogueStateTracker) -> str:
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return ACTION_LISTEN_NAME
        intent = tracker.latest_message.intent.get("name")
        if intent not in RASA_DEFAULTS and EMERGENCY_INTENT in self.table:
            if escalates(tracker.latest_message.parse_data.get("danger"), earlier_verdicts(tracker)):
                return self.table[EMERGENCY_INTENT]
        return RASA_DEFAULTS.get(intent) or self.table.get(intent) or self.config["core_fallback_action_name"]

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(self.next_action(tracker))] = 1.0
        return self._prediction(probabilities)
