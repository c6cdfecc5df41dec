"""`GPT2Detokenizer` (vocab.json only) decodes exactly as keras-hub's GPT2Tokenizer does."""

import numpy as np
import pytest

from image_captioning.tokenizer import END_OF_TEXT, GPT2_ASSETS, GPT2Detokenizer, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(GPT2_ASSETS)


def test_decoder_equals_keras_hub_on_text_round_trip(tokenizer):
    text = "A man rides a horse on the beach. Ein Café, naïve 日本語 ✓ emoji 🙂!"
    ids = [int(i) for i in tokenizer([text])[0]]
    assert GPT2Detokenizer()(ids) == tokenizer.detokenize([ids])[0] == text


def test_decoder_equals_keras_hub_on_random_ids_with_broken_utf8(tokenizer):
    """Random ids include tokens that hold parts of multi-byte characters, so invalid UTF-8 occurs."""
    decode = GPT2Detokenizer()
    end = decode.token_id(END_OF_TEXT)
    rng = np.random.default_rng(0)
    sequences = [[int(t) for t in rng.integers(0, end, size=length)] for length in rng.integers(1, 30, size=200)]
    partial = [[10545], [10545, 245], [71, 10545, 2634], [245, 71]]  # 10545 = first 2 bytes of a 3-byte character
    broken = 0
    for ids in sequences + partial:
        expected = tokenizer.detokenize([ids])[0]
        broken += "\ufffd" in expected
        assert decode(ids) == expected, ids
    assert broken >= len(partial)


def test_end_of_text_decodes_to_nothing():
    decode = GPT2Detokenizer()
    assert decode.token_id(END_OF_TEXT) == 50256
    assert decode([64, 3797, 50256, 13]) == decode([64, 3797, 13]) == "a cat."
