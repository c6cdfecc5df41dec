"""GPT-2 124M with random weights: logits given input embeddings, and cached == full sequence."""

import numpy as np
import pytest
from keras import ops

from image_captioning.converters.gpt2 import convert_hf_gpt2
from unitest.gpt2_checks import incremental_logits
from unitest.parity import max_abs_diff
from unitest.references.clipcap_official import state_dict_numpy
from unitest.references.hf_gpt2 import hf_logits, make_hf_gpt2

pytestmark = pytest.mark.real_size
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def models():
    reference = make_hf_gpt2(tiny=False)
    return reference, convert_hf_gpt2(state_dict_numpy(reference.state_dict()))


@pytest.fixture(scope="module")
def embeds():
    return np.random.default_rng(5).standard_normal((2, 24, 768)).astype("float32") * 0.1


def test_gpt2_124m_logits_match_hugging_face(models, embeds):
    reference, decoder = models
    difference = max_abs_diff(ops.convert_to_numpy(decoder(embeds)), hf_logits(reference, embeds))
    print(f"GPT-2 124M logits max abs diff vs HF: {difference:.3g}")
    assert difference <= TOLERANCE


def test_gpt2_124m_cached_equals_full(models, embeds):
    _, decoder = models
    full = ops.convert_to_numpy(decoder(embeds))
    difference = max_abs_diff(incremental_logits(decoder, embeds, prompt_length=10), full)
    print(f"GPT-2 124M cached vs full max abs diff: {difference:.3g}")
    assert difference <= TOLERANCE
