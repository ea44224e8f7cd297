"""The features and scores of core/text_models.py, read a message at a time: the same numbers (to
rounding in the last bits) as sklearn's transform and predict_proba on the same fitted parts."""

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from core.text_models import classifier, fit_side_by_side, join, make_features, probabilities

TRAINING = [
    "how do i get crime alerts", "is there a live chat", "whats the non emergency number", "someone is breaking in",
    "my bike was stolen last week", "are you on facebook", "thanks so much", "ktoś włamuje się do domu",
    "mera shohar mujhe maar raha hai", "میرا شوہر مجھے مار رہا ہے", "有人在我家外面", "can i talk to someone",
]  # fmt: skip
LABELS = [
    "alerts",
    "chat",
    "101",
    "danger",
    "crime",
    "social",
    "thanks",
    "danger",
    "danger",
    "danger",
    "danger",
    "chat",
]
TEXTS = TRAINING + ["", "hi", "zzzz qqqq", "crime alerts crime alerts please", "有人", "live live live chat chat"]


def sklearns_rows(features, texts):
    return scipy.sparse.hstack([vectorizer.transform(texts) for vectorizer in features.vectorizers], format="csr")


@pytest.fixture(scope="module")
def fitted():
    features = make_features()
    matrix = features.fit_transform(TRAINING * 2)
    return features, matrix


def test_a_messages_features_are_sklearns_tf_idf_row(fitted):
    features, _ = fitted
    expected = sklearns_rows(features, TEXTS).toarray()
    for text, row in zip(TEXTS, expected, strict=True):
        columns, values = features.vector(text)
        ours = np.zeros(features.width)
        ours[columns] = values
        assert len(set(columns)) == len(columns) == np.count_nonzero(row)
        assert np.abs(ours - row).max() < 1e-12, text


@pytest.mark.parametrize(
    "model",
    [
        classifier(10.0),  # liblinear, one against the rest: the intent and language models' quick stage
        LogisticRegression(C=1.0, max_iter=3000),  # lbfgs, multinomial
    ],
    ids=["one-against-rest", "multinomial"],
)
def test_scores_are_sklearns_predict_proba(fitted, model):
    features, matrix = fitted
    model.fit(matrix, LABELS * 2)
    expected = model.predict_proba(sklearns_rows(features, TEXTS))
    for text, row in zip(TEXTS, expected, strict=True):
        assert np.abs(probabilities(model, *features.vector(text)) - row).max() < 1e-12, text


def test_two_class_scores_with_an_embedding_after_the_features_are_sklearns(fitted):
    features, matrix = fitted
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(len(TRAINING) * 2, 8)).astype(np.float32)
    danger = [int(label == "danger") for label in LABELS] * 2
    model = classifier(30.0).fit(join(matrix, embeddings), danger)
    quick = classifier(30.0).fit(matrix, danger)
    unseen = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    expected = model.predict_proba(join(sklearns_rows(features, TEXTS), unseen))
    expected_quick = quick.predict_proba(sklearns_rows(features, TEXTS))
    for index, text in enumerate(TEXTS):
        vector = features.vector(text)
        assert np.abs(probabilities(model, *vector, unseen[index]) - expected[index]).max() < 1e-12, text
        assert np.abs(probabilities(quick, *vector) - expected_quick[index]).max() < 1e-12, text


def test_fits_side_by_side_are_the_fits_one_after_the_other(fitted):
    _, matrix = fitted
    labels, danger = np.asarray(LABELS * 2), np.asarray([label == "danger" for label in LABELS * 2])
    embeddings = np.random.default_rng(3).normal(size=(matrix.shape[0], 8))
    fits = [
        lambda: classifier(10.0).fit(matrix, labels),
        lambda: classifier(30.0).fit(join(matrix, embeddings), danger),
        lambda: LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000).fit(embeddings, labels),
    ]
    for together, alone in zip(fit_side_by_side(*fits), [fit() for fit in fits], strict=True):
        assert np.array_equal(together.coef_, alone.coef_) and np.array_equal(together.intercept_, alone.intercept_)
