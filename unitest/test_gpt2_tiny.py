"""Tiny GPT-2: parity with Hugging Face, KV cache, config/weights and keras-hub preset round trips."""

import numpy as np
import pytest
from keras import ops

from custom_architectures.gpt2 import GPT2Decoder, gpt2_block_view
from image_captioning.converters.gpt2 import convert_hf_gpt2
from image_captioning.converters.weight_table import WeightConversionError
from unitest.gpt2_checks import incremental_logits
from unitest.parity import max_abs_diff
from unitest.references.clipcap_official import state_dict_numpy
from unitest.references.hf_gpt2 import hf_logits, make_hf_gpt2

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def reference():
    return make_hf_gpt2(tiny=True)


@pytest.fixture(scope="module")
def decoder(reference):
    return convert_hf_gpt2(state_dict_numpy(reference.state_dict()))


@pytest.fixture
def embeds():
    return np.random.default_rng(3).standard_normal((2, 12, 128)).astype("float32")


def test_logits_match_hugging_face(reference, decoder, embeds):
    assert max_abs_diff(ops.convert_to_numpy(decoder(embeds)), hf_logits(reference, embeds)) <= TOLERANCE


def test_cached_incremental_logits_equal_full_sequence(decoder, embeds):
    full = ops.convert_to_numpy(decoder(embeds))
    assert max_abs_diff(incremental_logits(decoder, embeds, prompt_length=5), full) <= TOLERANCE


def test_block_view_parts_recompute_the_keras_hub_block(decoder, embeds):
    block = decoder.backbone.transformer_layers[0]
    view = gpt2_block_view(block)
    length = embeds.shape[1]
    h = view.ln_1(embeds)
    q = view.attn_query(h) * view.attention_scale  # (B, L, heads, head_dim)
    scores = ops.einsum("bqhd,bkhd->bhqk", q, view.attn_key(h))
    scores = ops.where(np.tril(np.ones((length, length), bool)), scores, -1e9)
    context = ops.einsum("bhqk,bkhd->bqhd", ops.softmax(scores, axis=-1), view.attn_value(h))
    x = embeds + view.attn_c_proj(context)
    x = x + view.mlp_c_proj(view.mlp_c_fc(view.ln_2(x)))
    assert view.attention_scale == pytest.approx((decoder.hidden_dim // decoder.num_heads) ** -0.5)
    assert max_abs_diff(x, block(embeds)) <= TOLERANCE


def test_config_and_weights_round_trip(decoder, embeds, tmp_path):
    clone = GPT2Decoder.from_config(decoder.get_config())
    decoder.save_weights(tmp_path / "gpt2.weights.h5")
    clone.load_weights(tmp_path / "gpt2.weights.h5")
    np.testing.assert_array_equal(ops.convert_to_numpy(clone(embeds)), ops.convert_to_numpy(decoder(embeds)))


def test_keras_hub_preset_folder_loads(decoder, embeds, tmp_path):
    decoder.backbone.save_to_preset(str(tmp_path / "preset"))
    loaded = GPT2Decoder.from_keras_hub_preset(str(tmp_path / "preset"))
    np.testing.assert_array_equal(ops.convert_to_numpy(loaded(embeds)), ops.convert_to_numpy(decoder(embeds)))


def test_hf_checkpoint_with_wrong_shape_is_named(reference):
    state = state_dict_numpy(reference.state_dict())
    state["transformer.h.0.mlp.c_proj.weight"] = state["transformer.h.0.mlp.c_proj.weight"][:-1]
    with pytest.raises(WeightConversionError, match=r"transformer\.h\.0\.mlp\.c_proj\.weight: checkpoint shape"):
        convert_hf_gpt2(state)
