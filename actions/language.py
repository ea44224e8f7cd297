"""Choosing the conversation's language: "change language" offers every language the assistant
answers in, each named in itself; its buttons switch to one."""

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LANGUAGE_SLOT, CatalogueAction
from core.catalogue import Catalogue
from core.hours import current_time
from core.language import ENGLISH
from core.replies import direction, render

CHOOSE_ROUTE = "change_language"
ENGLISH_NAME = "English"
SWITCHED_TO_ENGLISH = "I will reply in English from now on. You can change the language at any time."


def language_buttons(catalogue: Catalogue) -> List[Dict[str, str]]:
    names = [(ENGLISH, ENGLISH_NAME)] + [(code, item.name) for code, item in sorted(catalogue.translations.items())]
    return [{"title": name, "payload": f'/change_language{{"language": "{code}"}}'} for code, name in names]


class ActionChooseLanguage(CatalogueAction):
    """ "Change language": the list of languages; a language button (/change_language{"language": "ur"}):
    that language, from this message on."""

    def name(self) -> Text:
        return "action_choose_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        catalogue = self.catalogue
        chosen = next(tracker.get_latest_entity_values(LANGUAGE_SLOT), None)
        if chosen != ENGLISH and chosen not in catalogue.translations:
            language, events = self.language(tracker)
            self.send(dispatcher, render(catalogue, CHOOSE_ROUTE, current_time(), language=language,
                                         extra_buttons=language_buttons(catalogue)))  # fmt: skip
            return events
        translation = catalogue.translations.get(chosen)
        said = translation.switched if translation else SWITCHED_TO_ENGLISH
        dispatcher.utter_message(text=said, lang=chosen, dir=direction(catalogue, chosen))
        self.send(dispatcher, render(catalogue, "restart", current_time(), language=chosen))
        return [SlotSet(LANGUAGE_SLOT, chosen)]
