"""`make validate`: check what staff edit (catalogue, emergency patterns) against the domain.

Prints every problem with the file, the entry and the fix, and exits 1 if there is one.
"""

import sys
from pathlib import Path
from typing import List

import yaml

from actions.catalogue import CatalogueError, catalogue_dir, parse_catalogue
from components.emergency import DEFAULT_PATTERNS_FILE, PatternsError, parse_patterns

DOMAIN = Path("domain.yml")
# Routes that are said by the fallback and the channels rather than for an intent.
NON_INTENT_ROUTES = {"fallback_did_you_mean", "fallback_final", "fallback_final_again", "service_unavailable", "empty_message"}
# Intents Rasa defines itself, which buttons may use.
RASA_INTENTS = {"restart"}


def problems() -> List[str]:
    found: List[str] = []
    try:
        catalogue = parse_catalogue(catalogue_dir())
    except CatalogueError as error:
        return [str(error)]
    try:
        parse_patterns(DEFAULT_PATTERNS_FILE)
    except PatternsError as error:
        found.append(str(error))
    intents = set(yaml.safe_load(DOMAIN.read_text(encoding="utf-8")).get("intents", []))
    routes_file = catalogue_dir() / "routes.yml"
    for intent in sorted(intents - set(catalogue.routes)):
        found.append(f"{routes_file}: intent '{intent}' (in {DOMAIN}) has no route; add a route named '{intent}'")
    for key, route in catalogue.routes.items():
        if key not in intents | NON_INTENT_ROUTES | RASA_INTENTS:
            found.append(f"{routes_file}: route '{key}' is not an intent in {DOMAIN}; add the intent or remove the route")
        for button in route.buttons:
            if button not in intents | RASA_INTENTS:
                found.append(f"{routes_file}: route '{key}': button '{button}' is not an intent, so clicking it would not work")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"ERROR {problem}", file=sys.stderr)
    if not found:
        print("Catalogue and emergency patterns OK.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
