"""The prefilter of the emergency patterns (core/literals.py) never changes what they find."""

import sys

import pytest
import regex

from core import emergency
from core.literals import Prefilter, fold, required


@pytest.mark.parametrize(
    "pattern, strings",
    [
        (r"\bhelp\b", {"help"}),
        (r"\b(Stab|knife)\w*", {"stab", "knife"}),
        (r"(a|b)c", {"ac", "bc"}),
        (r"\bfire(s)? in\b", {"fire in", "fires in"}),
        (r"\b[kc]ill\b", {"kill", "cill"}),
        (r"(?<!no )\bfight\b", {"fight"}),
        (r"^(?=.*[\u0600-\u06FF]).*\bfilm\b", {"film"}),
        (r"^(?=.*\bfilm\b)", {"film"}),
        (r"help.*me|save (us|me)", {"help", "save us", "save me"}),
        (r"\d+ stabbed", {" stabbed"}),
    ],
)
def test_the_strings_a_pattern_cannot_match_without(pattern, strings):
    assert required(pattern) == strings


@pytest.mark.parametrize("pattern", [r".*", r"\w+", r"(help)?", r"help|\d+", r"[a-z]{3}", r"(?!x)", r"a**"])
def test_a_pattern_that_can_match_without_any_fixed_string_is_always_run(pattern):
    assert required(pattern) is None
    assert Prefilter([pattern]).candidates("anything") == {0}


def test_only_patterns_whose_strings_are_in_the_text_are_candidates():
    prefilter = Prefilter([r"\bknife\b", r"\bgun\b", r".*"])
    assert prefilter.candidates("he has a KNIFE") == {0, 2}
    assert prefilter.candidates("hello") == {2}


def every_pattern(text: str, patterns: emergency.EmergencyPatterns) -> emergency.Found:
    text = emergency._normalise(text)
    return emergency.Found(
        *(any(pattern.search(text) for pattern in getattr(patterns, section)) for section in emergency.SECTIONS)
    )


def test_upper_case_and_mixed_scripts_find_the_same():
    patterns = emergency.load_patterns()
    for text in ["SOMEONE IS BREAKING IN", "Help He Has A Knife", "میرا PHONE چوری", "ĆWICZENIA", "ŻYCIE"]:
        assert emergency.matches(text, patterns) == every_pattern(text, patterns)


def test_every_character_the_patterns_need_is_matched_only_by_characters_that_fold_alike():
    """What makes the prefilter safe: where `regex` matches a character without regard to case, the
    text's character folds (str.casefold) to the pattern's."""
    patterns = emergency.load_patterns()
    needed = {
        character
        for pattern in patterns._numbered
        for string in (required(pattern[1].pattern) or ())
        for character in string
    }
    everything = "".join(chr(point) for point in range(sys.maxunicode + 1) if not 0xD800 <= point <= 0xDFFF)
    for character in sorted(needed):
        for match in regex.finditer(regex.escape(character), everything, regex.IGNORECASE):
            assert fold(character) in fold(match.group()), (character, match.group())
