"""What the language, intent and danger models share: how a message becomes features, how a
logistic regression scores it, and how a trained model is saved.

Models are fitted with sklearn and saved as plain data (vocabularies in JSON, numbers in .npz: no
pickle; the model file's sha256 is also checked before loading). A message is read one at a time
(`NGrams.vector`, `probabilities`), in a few hundredths of a millisecond per model. The intent and
danger models have a quick stage (character and word n-grams, TF-IDF) and a full stage with the
message's sentence embedding added (core/encoder.py), used only when the quick stage cannot decide.
"""

import json
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

# Letters that look alike but differ in code point (Arabic and Persian/Urdu forms, typographic quotes).
SAME_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ە": "ه", "ۀ": "ه", "’": "'", "‘": "'", "`": "'"})


def normalise(text: str) -> str:
    """Lower case, one form per letter and one space between words, so that spelling variants meet."""
    text = unicodedata.normalize("NFKC", text).translate(SAME_LETTERS).lower()
    return " ".join(text.split())


# What a vectorizer is built with; saved with the model, so a model always reads text the way it was trained.
SETTINGS = ("analyzer", "ngram_range", "sublinear_tf", "min_df", "token_pattern", "lowercase")


# How a vectorizer cuts a text into n-grams (the rest of SETTINGS weighs them).
ANALYSIS = ("analyzer", "ngram_range", "token_pattern", "lowercase")
Settings = Tuple[Tuple[str, Any], ...]
_ANALYSERS: Dict[Settings, Callable[[str], List[str]]] = {}


@lru_cache(maxsize=256)
def _term_counts(settings: Settings, text: str) -> Dict[str, int]:
    """How often each n-gram occurs in the text; kept for the latest texts, as the language, intent
    and danger models all read each message."""
    return Counter(_ANALYSERS[settings](text))


class NGrams:
    """TF-IDF vectorizers side by side (sklearn's FeatureUnion of TfidfVectorizers): fitted with
    sklearn, and read one message at a time by `vector`."""

    def __init__(self, *vectorizers: Any) -> None:
        self.vectorizers = list(vectorizers)
        self._parts: Optional[List[Tuple[Settings, Dict[str, int], np.ndarray, bool, int]]] = None

    def fit_transform(self, texts: Sequence[str]) -> Any:
        import scipy.sparse

        parts = [vectorizer.fit_transform(texts) for vectorizer in self.vectorizers]
        for vectorizer in self.vectorizers:
            vectorizer.stop_words_ = None  # the n-grams left out: not needed, and large
        return scipy.sparse.hstack(parts, format="csr")

    @property
    def width(self) -> int:
        return sum(len(vectorizer.vocabulary_) for vectorizer in self.vectorizers)

    def vector(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """The text's features as (columns, values): the row sklearn's transform gives (the same
        numbers, to rounding in the last bit), without its per-call checks and matrix building,
        and with the n-grams of a text counted once for every model that cuts text the same way."""
        columns, values = [], []
        for settings, vocabulary, idf, sublinear, offset in self._prepared():
            found = [
                (vocabulary[term], count) for term, count in _term_counts(settings, text).items() if term in vocabulary
            ]
            if not found:
                continue
            index = np.fromiter((column for column, _ in found), dtype=np.int64, count=len(found))
            tf = np.fromiter((count for _, count in found), dtype=np.float64, count=len(found))
            if sublinear:
                tf = np.log(tf) + 1.0
            tf *= idf[index]
            tf /= np.sqrt(tf @ tf)
            columns.append(index + offset)
            values.append(tf)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def _prepared(self) -> List[Tuple[Settings, Dict[str, int], np.ndarray, bool, int]]:
        if self._parts is None:
            parts, offset = [], 0
            for vectorizer in self.vectorizers:
                if vectorizer.norm != "l2" or not vectorizer.use_idf:
                    raise ValueError("NGrams reads only l2-normalised tf-idf vectorizers")
                params = vectorizer.get_params()
                settings = tuple((key, params[key]) for key in ANALYSIS)
                _ANALYSERS.setdefault(settings, vectorizer.build_analyzer())
                parts.append((settings, vectorizer.vocabulary_, vectorizer.idf_, vectorizer.sublinear_tf, offset))
                offset += len(vectorizer.vocabulary_)
            self._parts = parts
        return self._parts


def probabilities(
    model: Any, columns: np.ndarray, values: np.ndarray, dense: Optional[np.ndarray] = None
) -> np.ndarray:
    """A fitted LogisticRegression's predict_proba for one row: `values` at `columns`, then `dense`
    (a sentence embedding) after the sparse features. The same numbers, to rounding, as sklearn's,
    which checks and converts its input on every call."""
    coef = model.coef_
    decision = coef[:, columns] @ values + model.intercept_
    if dense is not None:
        decision += coef[:, coef.shape[1] - dense.shape[0] :] @ dense
    ovr = model.multi_class in ("ovr", "warn") or (
        model.multi_class == "auto" and (model.classes_.size <= 2 or model.solver == "liblinear")
    )
    if ovr:
        probability = 1.0 / (1.0 + np.exp(-decision))
        return (
            np.array([1.0 - probability[0], probability[0]])
            if probability.size == 1
            else probability / probability.sum()
        )
    decision = np.array([-decision[0], decision[0]]) if decision.size == 1 else decision
    exponent = np.exp(decision - decision.max())
    return exponent / exponent.sum()


def make_features() -> NGrams:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return NGrams(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
    )


def classifier(c: float, seed: int = 2718) -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear (one against the rest): as good as lbfgs here, in a third of the time.
    return LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=5000, random_state=seed)


def fit_side_by_side(*fits: Callable[[], Any]) -> List[Any]:
    """Each fit's result, the fits run at once in threads: liblinear and lbfgs spend their time
    outside the GIL, so on two cores two fits take about as long as the longer one. The results are
    those of fitting one after the other (liblinear's primal solver draws no random numbers)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(fits), thread_name_prefix="fit") as pool:
        return [future.result() for future in [pool.submit(fit) for fit in fits]]


def join(sparse: Any, embeddings: np.ndarray) -> Any:
    import scipy.sparse

    return scipy.sparse.hstack([sparse, scipy.sparse.csr_matrix(embeddings)], format="csr")


def save_parts(directory: Path, parts: Dict[str, Any]) -> None:
    """Each fitted part as plain data (vocabularies in JSON, numbers in .npz): loading runs no code."""
    for name, part in parts.items():
        if isinstance(part, NGrams):
            vectorizers = part.vectorizers
            settings = [{key: vectorizer.get_params()[key] for key in SETTINGS} for vectorizer in vectorizers]
            vocabularies = [{term: int(index) for term, index in v.vocabulary_.items()} for v in vectorizers]
            (directory / f"{name}.json").write_text(json.dumps({"settings": settings, "vocabularies": vocabularies}))
            np.savez(directory / f"{name}.npz", *[vectorizer.idf_ for vectorizer in vectorizers])
        else:  # a logistic regression
            np.savez(directory / f"{name}.npz", coef=part.coef_, intercept=part.intercept_, classes=part.classes_,
                     solver=np.array(part.solver))  # fmt: skip


def load_parts(directory: Path, names: Sequence[str]) -> Dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    parts: Dict[str, Any] = {}
    for name in names:
        if (directory / f"{name}.json").is_file():
            stored = json.loads((directory / f"{name}.json").read_text())
            with np.load(directory / f"{name}.npz") as idfs:
                vectorizers = []
                for index, (settings, vocabulary) in enumerate(
                    zip(stored["settings"], stored["vocabularies"], strict=True)
                ):
                    settings["ngram_range"] = tuple(settings["ngram_range"])
                    vectorizer = TfidfVectorizer(**settings)
                    vectorizer.vocabulary_ = vocabulary
                    vectorizer.idf_ = idfs[f"arr_{index}"]
                    vectorizers.append(vectorizer)
            parts[name] = NGrams(*vectorizers)
        else:
            with np.load(directory / f"{name}.npz", allow_pickle=False) as stored:
                # The same solver as at training: it decides how the probabilities are normalised.
                model = classifier(1.0) if str(stored["solver"]) == "liblinear" else LogisticRegression()
                model.coef_, model.intercept_, model.classes_ = stored["coef"], stored["intercept"], stored["classes"]
                model.n_features_in_ = model.coef_.shape[1]
            parts[name] = model
    return parts
