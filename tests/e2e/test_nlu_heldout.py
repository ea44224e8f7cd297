"""The trained model on the held-out NLU test set (tests/nlu_test_set.yml, never trained on)."""

import pytest

from scripts.evaluate_nlu import evaluate
from tests.servers import MODEL

MIN_MACRO_F1 = 0.92


@pytest.mark.slow
def test_intent_macro_f1_on_the_held_out_sets_is_at_least_0_92():
    result = evaluate(str(MODEL))
    print(f"\nheld-out intent macro-F1 {result['macro_f1']:.3f} on {result['examples']} messages")
    assert result["macro_f1"] >= MIN_MACRO_F1
