"""Tiny ClipCap (both mappers) against the official PyTorch definition, plus conversion errors."""

import numpy as np
import pytest
import torch
from keras import ops

from custom_architectures.clipcap import ClipCapModel
from image_captioning.converters.clipcap import convert_clipcap, infer_clipcap_config
from image_captioning.converters.weight_table import WeightConversionError
from unitest.parity import max_abs_diff
from unitest.references.clipcap_official import (
    make_reference_clipcap,
    official_state_dict,
    state_dict_numpy,
)

TOLERANCE = 1e-5


def reference_and_converted(mapper_type):
    reference = make_reference_clipcap(mapper_type, seed=1, tiny=True)
    model = convert_clipcap(state_dict_numpy(official_state_dict(reference)))
    return reference, model


def run_both(reference, model, batch=3, length=7):
    rng = np.random.default_rng(0)
    prefix = rng.standard_normal((batch, model.mapper.input_dim)).astype("float32")
    tokens = rng.integers(0, 300, (batch, length))
    with torch.no_grad():
        expected = reference(torch.from_numpy(tokens), torch.from_numpy(prefix)).numpy()
    actual = ops.convert_to_numpy(model({"clip_embedding": prefix, "token_ids": tokens}))
    return expected, actual


@pytest.mark.parametrize("mapper_type", ["mlp", "transformer"])
def test_clipcap_logits_match_official(mapper_type):
    reference, model = reference_and_converted(mapper_type)
    model.normalize_prefix = False  # the reference gets raw embeddings
    expected, actual = run_both(reference, model)
    assert actual.shape == expected.shape
    assert max_abs_diff(actual, expected) <= TOLERANCE


def test_config_inferred_from_shapes():
    config = infer_clipcap_config(state_dict_numpy(official_state_dict(make_reference_clipcap("transformer", tiny=True))))
    assert config["mapper_type"] == "transformer"
    assert config["mapper"] == {
        "input_dim": 48, "hidden_dim": 128, "prefix_length": 6, "clip_length": 5,
        "num_layers": 2, "num_heads": 8, "intermediate_dim": 256,
    }
    assert config["decoder"]["num_layers"] == 2 and config["decoder"]["vocabulary_size"] == 300


@pytest.mark.parametrize("mapper_type", ["mlp", "transformer"])
def test_get_config_round_trip_gives_identical_outputs(mapper_type, tmp_path):
    _, model = reference_and_converted(mapper_type)
    clone = ClipCapModel.from_config(model.get_config())
    model.save_weights(tmp_path / "model.weights.h5")
    clone.load_weights(tmp_path / "model.weights.h5")
    inputs = {"clip_embedding": np.ones((2, model.mapper.input_dim), "float32"), "token_ids": np.array([[1, 2], [3, 4]])}
    np.testing.assert_array_equal(ops.convert_to_numpy(clone(inputs)), ops.convert_to_numpy(model(inputs)))
    assert clone.normalize_prefix == model.normalize_prefix == (mapper_type == "transformer")


def official_numpy_state(mapper_type):
    return state_dict_numpy(official_state_dict(make_reference_clipcap(mapper_type, tiny=True)))


def test_missing_key_is_named():
    state = official_numpy_state("mlp")
    del state["gpt.transformer.h.1.mlp.c_fc.bias"]
    with pytest.raises(WeightConversionError, match=r"missing keys.*gpt\.transformer\.h\.1\.mlp\.c_fc\.bias"):
        convert_clipcap(state)


def test_extra_key_is_named():
    state = official_numpy_state("transformer")
    state["clip_project.transformer.layers.0.attn.surprise"] = np.zeros(3, "float32")
    with pytest.raises(WeightConversionError, match=r"unexpected keys.*layers\.0\.attn\.surprise"):
        convert_clipcap(state)


def test_misshaped_key_is_named():
    state = official_numpy_state("transformer")
    state["clip_project.transformer.layers.1.norm2.weight"] = np.zeros(129, "float32")
    with pytest.raises(WeightConversionError, match=r"layers\.1\.norm2\.weight: checkpoint shape \(129,\)"):
        convert_clipcap(state)


def test_untied_lm_head_is_refused():
    state = official_numpy_state("mlp")
    state["gpt.lm_head.weight"] = state["gpt.lm_head.weight"] + 1.0
    with pytest.raises(WeightConversionError, match="gpt.lm_head.weight differs"):
        convert_clipcap(state)


def test_not_a_clipcap_file_is_explained():
    with pytest.raises(WeightConversionError, match="Not an official ClipCap checkpoint"):
        convert_clipcap({"gpt.transformer.wte.weight": np.zeros((5, 128), "float32")})
