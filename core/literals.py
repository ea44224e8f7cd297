"""Which patterns can match a text, found in one pass: the text is searched for words that each
pattern cannot match without, and only the patterns whose words are there are run.

`required(pattern)` reads a regular expression and gives a set of strings of which every text it
matches contains at least one (in `fold`ed form), or None when it cannot tell; those patterns are
always run. `Prefilter` finds all the required strings of a list of patterns in a text at once with
an Aho-Corasick automaton (pyahocorasick, BSD licence), so checking a message costs about the same
whether there are ten patterns or a thousand. It only ever skips a pattern that cannot match: the
results are those of running every pattern (tests/unit/test_literals.py checks that on every
example in the project).
"""

from itertools import product
from typing import Any, FrozenSet, List, Optional, Sequence, Set, Tuple

import ahocorasick

try:  # Python 3.11 renamed it
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re import _constants as sre_constants  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_STRINGS = 64  # above this many concatenations, a part of a pattern is not spelled out
MAX_ALTERNATIVES = 1024  # above this many, the strings of a choice ("a|b|...") are not kept
MAX_CLASS = 8  # a character class of at most this many characters is spelled out

Strings = FrozenSet[str]


def fold(text: str) -> str:
    """Case folded, as both the text and the required strings are compared (a pattern that matches
    without regard to case matches a text only where the folded text holds its folded strings)."""
    return text.casefold()


def _best(candidates: Sequence[Strings]) -> Optional[Strings]:
    """The most selective set: the longest shortest string, then the fewest strings."""
    useful = [strings for strings in candidates if strings and "" not in strings]
    return max(useful, key=lambda strings: (min(map(len, strings)), -len(strings)), default=None)


def _spelled(parts: Sequence[Strings]) -> Optional[Strings]:
    """Every concatenation of one string from each part, unless there are too many."""
    size = 1
    for part in parts:
        size *= len(part)
        if size > MAX_STRINGS:
            return None
    return frozenset("".join(strings) for strings in product(*parts))


def _analyse(items: Any) -> Tuple[Optional[Strings], Optional[Strings]]:
    """(exact, required) of a sequence: every string it can match, if there are few (None if not),
    and a set of which every match contains one (None if unknown)."""
    candidates: List[Strings] = []
    run: List[Strings] = []  # the exact parts since the last inexact one
    exact_parts: Optional[List[Strings]] = []
    for op, value in items:
        exact, required, aside = _item(op, value)
        if aside is not None:
            candidates.append(aside)
        if exact is not None:
            run.append(exact)
            if exact_parts is not None:
                exact_parts.append(exact)
            continue
        exact_parts = None
        if run:
            spelled = _spelled(run)
            if spelled is not None:
                candidates.append(spelled)
            run = []
        if required is not None:
            candidates.append(required)
    if run:
        spelled = _spelled(run)
        if spelled is not None:
            candidates.append(spelled)
        else:  # too many together: the most selective single part still has to be there
            candidates.extend(run)
    exact_all = _spelled(exact_parts) if exact_parts is not None else None
    if exact_all is not None:
        candidates.append(exact_all)
    return exact_all, _best(candidates)


def _union(parts: Sequence[Optional[Strings]]) -> Optional[Strings]:
    if any(part is None for part in parts):
        return None
    joined = frozenset().union(*parts)  # type: ignore[arg-type]
    return joined if len(joined) <= MAX_ALTERNATIVES else None


def _item(op: Any, value: Any) -> Tuple[Optional[Strings], Optional[Strings], Optional[Strings]]:
    """(exact, required, aside) of one element; `aside` is what a lookaround needs elsewhere in the text."""
    c = sre_constants
    if op is c.LITERAL:
        return frozenset({fold(chr(value))}), None, None
    if op is c.IN:
        if len(value) <= MAX_CLASS and all(kind is c.LITERAL for kind, _ in value):
            return frozenset(fold(chr(code)) for _, code in value), None, None
        return None, None, None
    if op is c.AT:
        return frozenset({""}), None, None
    if op is c.ASSERT:  # a positive lookaround: what it looks at is in the text too
        return frozenset({""}), None, _analyse(value[1])[1]
    if op is c.ASSERT_NOT:
        return frozenset({""}), None, None
    if op is c.SUBPATTERN:
        return (*_analyse(value[-1]), None)
    if op is c.BRANCH:
        results = [_analyse(branch) for branch in value[1]]
        exact = _union([exact for exact, _ in results])
        required = _union([exact if exact is not None else required for exact, required in results])
        return exact, required, None
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, inner = value
        exact, required = _analyse(inner)
        if low == 0:
            return (frozenset({""}) | exact if high == 1 and exact is not None else None), None, None
        repeated = _spelled([exact] * low) if exact is not None and low == high else None
        return repeated, (exact if exact is not None else required), None
    return None, None, None  # any character, a category, a back-reference, ...


def required(pattern: str) -> Optional[Strings]:
    """Strings (folded) of which every text the pattern matches without regard to case contains one;
    None when the pattern may match a text without any (or Python's parser cannot read it)."""
    try:
        parsed = sre_parse.parse(pattern, sre_constants.SRE_FLAG_IGNORECASE)
    except (sre_constants.error, ValueError, OverflowError, RecursionError):
        return None
    return _analyse(parsed)[1]


class Prefilter:
    """For a list of patterns: which of them can match a text."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.always: Set[int] = set()
        self._automaton = ahocorasick.Automaton()
        by_string: dict = {}
        for index, source in enumerate(sources):
            strings = required(source)
            if strings is None:
                self.always.add(index)
                continue
            for string in strings:
                by_string.setdefault(string, set()).add(index)
        for string, indices in by_string.items():
            self._automaton.add_word(string, frozenset(indices))
        if by_string:
            self._automaton.make_automaton()
        self.size = len(sources)

    def candidates(self, text: str) -> Set[int]:
        """The indices of the patterns that can match `text` (the others cannot)."""
        found = set(self.always)
        if len(self._automaton):
            for _, indices in self._automaton.iter(fold(text)):
                found |= indices
        return found
