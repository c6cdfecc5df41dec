"""Every model and layer of `custom_architectures` survives get_config/from_config and Keras
serialization with its name, its dtype policy (float32 and bfloat16) and its outputs."""

import keras
import numpy as np
import pytest
from keras import ops

import custom_architectures.clip as clip
import custom_architectures.clipcap as clipcap
import custom_architectures.gpt2 as gpt2
import custom_architectures.lstm_captioner as lstm_captioner
from custom_architectures.clip import (
    MLP,
    AttentionPool2d,
    Bottleneck,
    CLIPModifiedResNet,
    CLIPMultiHeadAttention,
    CLIPTextEncoder,
    CLIPVisionTransformer,
    QuickGELU,
    ResidualAttentionBlock,
    Transformer,
)
from custom_architectures.clipcap import (
    ClipCapAttention,
    ClipCapMLPMapper,
    ClipCapModel,
    ClipCapTemporalMapper,
    ClipCapTransformerLayer,
    ClipCapTransformerMapper,
    ClipGPTEncoderLayer,
    ClipGPTMapper,
)
from custom_architectures.gpt2 import GPT2Decoder
from custom_architectures.lstm_captioner import ImageProjection, LSTMDecoder, ResNet50ImageEncoder

RNG = np.random.default_rng(0)
TOKENS = np.array([[1, 7, 3, 19, 2]])


def floats(*shape):
    return RNG.standard_normal(shape).astype("float32")


# class -> (tiny constructor kwargs, inputs). A `(class, kwargs)` value is built with the parent's dtype.
CASES = {
    QuickGELU: ({}, floats(2, 3)),
    CLIPMultiHeadAttention: ({"hidden_dim": 8, "num_heads": 2, "use_causal_mask": True}, floats(1, 5, 8)),
    MLP: ({"hidden_dim": 8}, floats(1, 5, 8)),
    ResidualAttentionBlock: ({"hidden_dim": 8, "num_heads": 2}, floats(1, 5, 8)),
    Transformer: ({"hidden_dim": 8, "num_layers": 2, "num_heads": 2, "use_causal_mask": True}, floats(1, 5, 8)),
    Bottleneck: ({"input_filters": 8, "filters": 4, "stride": 2}, floats(1, 4, 4, 8)),
    AttentionPool2d: ({"grid_size": 2, "hidden_dim": 8, "num_heads": 2, "output_dim": 6}, floats(1, 2, 2, 8)),
    CLIPModifiedResNet: (
        {"stackwise_num_blocks": (1, 1, 1, 1), "output_dim": 6, "num_heads": 2, "input_resolution": 32, "stem_filters": 4},
        floats(1, 32, 32, 3),
    ),
    CLIPVisionTransformer: (
        {"input_resolution": 16, "patch_size": 8, "hidden_dim": 8, "num_layers": 1, "num_heads": 2, "output_dim": 6},
        floats(1, 16, 16, 3),
    ),
    CLIPTextEncoder: (
        {"max_sequence_length": 5, "vocabulary_size": 20, "hidden_dim": 8, "num_layers": 1, "num_heads": 2, "output_dim": 6},
        TOKENS,
    ),
    ClipCapMLPMapper: ({"input_dim": 6, "prefix_length": 2, "hidden_dim": 8}, floats(2, 6)),
    ClipCapAttention: ({"hidden_dim": 8, "num_heads": 2}, floats(1, 5, 8)),
    ClipCapTransformerLayer: ({"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 12}, floats(1, 5, 8)),
    ClipCapTransformerMapper: (
        {"input_dim": 6, "hidden_dim": 8, "prefix_length": 2, "clip_length": 3, "num_layers": 1, "num_heads": 2,
         "intermediate_dim": 12},
        floats(2, 6),
    ),
    ClipCapTemporalMapper: (
        {"input_dim": 6, "hidden_dim": 8, "prefix_length": 2, "max_frames": 4, "num_layers": 1, "num_heads": 2,
         "intermediate_dim": 12},
        floats(2, 3, 6),
    ),
    ClipGPTEncoderLayer: ({"hidden_dim": 8, "num_heads": 2, "intermediate_dim": 12}, floats(2, 1, 8)),
    ClipGPTMapper: (
        {"input_dim": 8, "hidden_dim": 8, "mapped_length": 3, "num_layers": 2, "num_heads": 2, "intermediate_dim": 12},
        floats(2, 8),
    ),
    GPT2Decoder: (
        {"vocabulary_size": 20, "num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16,
         "max_sequence_length": 8, "dropout": 0.0},
        floats(1, 5, 8),
    ),
    ImageProjection: ({"input_dim": 6, "embedding_dim": 4}, floats(2, 6)),
    LSTMDecoder: ({"vocabulary_size": 20, "hidden_dim": 8, "embedding_dim": 6, "num_layers": 2}, floats(1, 5, 6)),
    ResNet50ImageEncoder: ({"input_resolution": 32, "input_mean": (0.5, 0.4, 0.3), "input_std": (0.2, 0.3, 0.25)},
                           floats(1, 32, 32, 3)),
    ClipCapModel: (
        {
            "image_encoder": (CLIPVisionTransformer, {"input_resolution": 16, "patch_size": 8, "hidden_dim": 8,
                                                      "num_layers": 1, "num_heads": 2, "output_dim": 6}),
            "mapper": (ClipCapMLPMapper, {"input_dim": 6, "prefix_length": 2, "hidden_dim": 8}),
            "decoder": (GPT2Decoder, {"vocabulary_size": 20, "num_layers": 1, "num_heads": 2, "hidden_dim": 8,
                                      "intermediate_dim": 16, "max_sequence_length": 8, "dropout": 0.0}),
            "normalize_prefix": True,
        },
        {"images": floats(1, 16, 16, 3), "token_ids": TOKENS},
    ),
}


def instantiate(cls, kwargs, dtype, name):
    built = {
        key: instantiate(*value, dtype, key) if isinstance(value, tuple) and isinstance(value[0], type) else value
        for key, value in kwargs.items()
    }
    return cls(**built, dtype=dtype, name=name)


def exported_layer_classes():
    modules = (clip, clipcap, gpt2, lstm_captioner)
    exported = [getattr(module, name) for module in modules for name in module.__all__]
    return {obj for obj in exported if isinstance(obj, type) and issubclass(obj, keras.layers.Layer)}


def test_cases_cover_every_exported_layer_class():
    assert exported_layer_classes() == set(CASES)


def dtype_policies(layer):
    """Policies of the layer and all its sublayers but a functional backbone's InputLayers, which compute nothing."""
    return {sub.dtype_policy.name for sub in layer._flatten_layers() if not isinstance(sub, keras.layers.InputLayer)}


def outputs(layer, inputs):
    return ops.convert_to_numpy(ops.cast(layer(inputs), "float32"))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("cls", list(CASES), ids=lambda cls: cls.__name__)
def test_config_round_trip_keeps_name_dtype_and_outputs(cls, dtype):
    kwargs, inputs = CASES[cls]
    layer = instantiate(cls, kwargs, dtype, "probe")
    expected = outputs(layer, inputs)
    assert dtype_policies(layer) == {dtype}, "sublayers must use the parent's dtype policy"
    clones = {
        "from_config": cls.from_config(layer.get_config()),
        "serialize": keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)),
    }
    for how, clone in clones.items():
        assert type(clone) is cls, how
        assert clone.name == "probe", how
        assert dtype_policies(clone) == {dtype}, how
        outputs(clone, inputs)  # builds any variable created on first call
        assert [v.dtype for v in clone.weights] == [v.dtype for v in layer.weights], how
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(outputs(clone, inputs), expected, err_msg=how)
