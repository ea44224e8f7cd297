"""The trained model on the held-out NLU test set (tests/nlu_test_set.yml, never trained on)."""

import pytest

from scripts.evaluate_nlu import evaluate, read_examples
from tests.servers import MODEL

pytestmark = pytest.mark.slow

MIN_MACRO_F1 = 0.90


def test_held_out_set_has_at_least_10_messages_per_intent():
    counts = {}
    for _, intent in read_examples():
        counts[intent] = counts.get(intent, 0) + 1
    assert min(counts.values()) >= 10, counts


def test_intent_macro_f1_on_the_held_out_set_is_at_least_0_90():
    result = evaluate(str(MODEL))
    print(f"\nheld-out intent macro-F1 {result['macro_f1']:.3f} on {result['examples']} messages")
    assert result["macro_f1"] >= MIN_MACRO_F1
