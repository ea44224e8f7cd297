"""Which language a message is written in, decided on this machine from the text alone.

1. The script: Gurmukhi is Punjabi, Bengali script Bengali, Gujarati script Gujarati, Chinese
   characters Chinese; Arabic script is Urdu, Arabic, Pashto or Kurdish Sorani; Latin letters are
   English, Polish, Romanian, Portuguese, Somali, or Urdu or Punjabi typed in Latin letters.
2. Within the script, the language model (LanguageModel) trained at `make train` on the project's
   own examples of each language (data/nlu/<code>/, data/danger/): it knows romanised Urdu and
   Punjabi, which no packaged detector does.
3. When that model is unsure, CLD2 (pycld2, Apache 2.0, whose model ships inside the package) if it
   is sure of a language written in that script.
No message text leaves the machine.
"""

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import regex

from core.text_models import load_parts, normalise, probabilities, save_parts

ENGLISH = "en"
# Script -> the languages written in it here.
LANGUAGES_BY_SCRIPT: Dict[str, Tuple[str, ...]] = {
    "latin": ("en", "pl", "ro", "pt", "so", "ur-Latn", "pa-Latn"),
    "arabic": ("ur", "ar", "ps", "ckb"),
    "gurmukhi": ("pa",),
    "bengali": ("bn",),
    "gujarati": ("gu",),
    "han": ("zh",),
}
LANGUAGES = tuple(code for codes in LANGUAGES_BY_SCRIPT.values() for code in codes)
# CLD2's codes for ours (CLD2 knows no romanised Urdu or Punjabi, and calls Sorani "ku").
CLD2_CODES = {"en": "en", "pl": "pl", "ro": "ro", "pt": "pt", "so": "so", "ur": "ur", "ar": "ar", "ps": "ps",
              "ckb": "ku", "pa": "pa", "bn": "bn", "gu": "gu", "zh": "zh"}  # fmt: skip
SURE = 0.6  # the language model decides alone from this probability
CLD2_SURE = 90  # percent
MAX_EXAMPLES = 600  # per language, evenly spread over its files: enough to tell the languages apart


def script_of(character: str) -> Optional[str]:
    point = ord(character)
    if 0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0xFB50 <= point <= 0xFDFF or 0xFE70 <= point <= 0xFEFF:
        return "arabic"
    if 0x0A00 <= point <= 0x0A7F:
        return "gurmukhi"
    if 0x0980 <= point <= 0x09FF:
        return "bengali"
    if 0x0A80 <= point <= 0x0AFF:
        return "gujarati"
    if 0x4E00 <= point <= 0x9FFF or 0x3400 <= point <= 0x4DBF:
        return "han"
    if character.isalpha() and unicodedata.name(character, "").startswith("LATIN"):
        return "latin"
    return None


def script(text: str) -> Optional[str]:
    """The message's script (None: no letters, e.g. emoji or digits). English words are often mixed
    into messages in other scripts ("میرا phone چوری ہو گیا"), so two letters of another script
    outweigh any number of Latin ones."""
    counts: Dict[str, int] = {}
    for character in text:
        found = script_of(character)
        if found:
            counts[found] = counts.get(found, 0) + 1
    others = {name: count for name, count in counts.items() if name != "latin" and count >= 2}
    if others:
        return max(others, key=others.get)
    return max(counts, key=counts.get) if counts else None


def words(text: str) -> int:
    """Words in the message; in Chinese, which has no spaces, every two characters count as one."""
    han = sum(1 for character in text if script_of(character) == "han")
    return len(text.split()) + han // 2


@dataclass(frozen=True)
class Detection:
    language: str
    confidence: float
    by: str  # "script", "model", "cld2", or "none" (no letters: English by default)

    def as_dict(self) -> Dict[str, Any]:
        return {"code": self.language, "confidence": round(self.confidence, 3), "by": self.by}


class LanguageModel:
    """Character n-grams and a logistic regression over the project's own examples of each language,
    and the words of those examples: a message in Latin letters with no word of the language the
    n-grams pick (a keyboard mash such as "zxcvbnm lkjhg" looks Polish to them) is not counted as it."""

    PARTS = ("features", "classifier")

    def __init__(self, features: Any, classifier: Any, vocabulary: Dict[str, Set[str]]) -> None:
        self.features = features
        self.classifier = classifier
        self.vocabulary = vocabulary

    @classmethod
    def train(cls, texts: Sequence[str], languages: Sequence[str]) -> "LanguageModel":
        from sklearn.feature_extraction.text import TfidfVectorizer

        from core.text_models import NGrams, classifier

        features = NGrams(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2))
        model = classifier(10.0).fit(features.fit_transform([normalise(text) for text in texts]), np.asarray(languages))
        vocabulary: Dict[str, Set[str]] = {}
        for text, language in zip(texts, languages, strict=True):
            vocabulary.setdefault(language, set()).update(word_list(text))
        return cls(features, model, vocabulary)

    def probabilities(self, text: str, candidates: Sequence[str]) -> Dict[str, float]:
        row = probabilities(self.classifier, *self.features.vector(normalise(text)))
        found = {code: float(p) for code, p in zip(self.classifier.classes_, row, strict=True) if code in candidates}
        total = sum(found.values()) or 1.0
        return {code: p / total for code, p in found.items()}

    def knows_a_word(self, text: str, language: str) -> bool:
        return not self.vocabulary.get(language, set()).isdisjoint(word_list(text))

    def save(self, directory: Path) -> None:
        save_parts(directory, {"features": self.features, "classifier": self.classifier})
        words_file = directory / "vocabulary.json"
        words_file.write_text(json.dumps({code: sorted(known) for code, known in self.vocabulary.items()}))

    @classmethod
    def load(cls, directory: Path) -> "LanguageModel":
        stored = json.loads((directory / "vocabulary.json").read_text())
        return cls(**load_parts(directory, cls.PARTS), vocabulary={code: set(known) for code, known in stored.items()})


def word_list(text: str) -> List[str]:
    return [word for word in regex.findall(r"\w+", normalise(text)) if len(word) > 1 and not word.isdigit()]


def cld2(text: str, candidates: Sequence[str]) -> Optional[Tuple[str, float]]:
    """CLD2's language, if it is sure and it is one of the candidates."""
    import pycld2

    try:
        reliable, _, found = pycld2.detect(text)
    except pycld2.error:
        return None
    _, code, percent, _ = found[0]
    ours = [language for language in candidates if CLD2_CODES.get(language) == code]
    return (ours[0], percent / 100) if reliable and ours and percent >= CLD2_SURE else None


def detect(text: str, model: Optional[LanguageModel]) -> Detection:
    found = script(text)
    if found is None:
        return Detection(ENGLISH, 0.0, "none")
    candidates = LANGUAGES_BY_SCRIPT[found]
    if len(candidates) == 1:
        return Detection(candidates[0], 1.0, "script")
    probabilities = model.probabilities(text, candidates) if model else {}
    best = max(probabilities, key=probabilities.get) if probabilities else candidates[0]
    if found == "latin" and model and best != ENGLISH and not model.knows_a_word(text, best):
        return Detection(ENGLISH, 0.0, "model")
    if probabilities.get(best, 0.0) >= SURE:
        return Detection(best, probabilities[best], "model")
    other = cld2(text, candidates)
    if other:
        return Detection(other[0], other[1], "cld2")
    return Detection(best, probabilities.get(best, 0.0), "model")


def training_examples(
    nlu_dir: Path, danger_dir: Path, per_language: Optional[int] = MAX_EXAMPLES
) -> List[Tuple[str, str]]:
    """(text, language) from data/nlu/<code>/*.yml and data/danger/<code>.yml, <code>_*.yml (English: data/danger/en/),
    about `per_language` of each, evenly spread over its files (None: all)."""
    from core import yaml_data
    from core.danger import read_file

    examples: List[Tuple[str, str]] = []
    for code in LANGUAGES:
        found: List[Tuple[str, str]] = []
        for path in sorted((nlu_dir / code).glob("*.yml")):
            for block in (yaml_data.load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
                for line in str(block.get("examples", "")).splitlines():
                    if line.strip().startswith("- "):
                        found.append((line.strip()[2:].strip(), code))
        for path in sorted(
            [danger_dir / f"{code}.yml", *danger_dir.glob(f"{code}_*.yml"), *(danger_dir / code).glob("*.yml")]
        ):
            if path.is_file():
                found += [(text, code) for text, _ in read_file(path)]
        examples += found[:: max(1, len(found) // per_language)] if per_language else found
    return examples


SWITCH_AT = 0.6  # the detector's confidence from which a message changes the conversation's language
MIN_WORDS = 2  # a one-word message ("ok", "salaam", a name) never changes it


def conversation_language(current: Optional[str], detection: Optional[Dict[str, Any]], text: str,
                          available: Sequence[str]) -> str:  # fmt: skip
    """The conversation's language after this message: the one it had, unless the message is written,
    in several words and without doubt, in another language the assistant answers in. A button press
    (a "/..." payload) never changes it."""
    current = current if current in available else ENGLISH
    if not detection or text.strip().startswith("/") or words(text) < MIN_WORDS:
        return current
    code = detection.get("code")
    if code in available and code != current and float(detection.get("confidence", 0.0)) >= SWITCH_AT:
        return code
    return current
