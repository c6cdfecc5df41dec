"""jmisilo/clip-gpt-captioning checkpoints, at toy widths: conversion through the CLI, every key
checked, Hugging Face parts, the generation preset, the named models' offline error. Real sizes:
test_clip_gpt_captioning_real_size.py."""

import keras
import numpy as np
import pytest
import torch
from keras import ops

from custom_architectures.clip import CLIPVisionTransformer
from image_captioning import ClipCap, hub
from image_captioning.clipcap import convert_named_model
from image_captioning.converters.clip_gpt_captioning import (
    convert_clip_gpt_captioning_state_dict,
    infer_clip_gpt_captioning_config,
)
from image_captioning.converters.torch_files import tensor_to_numpy
from image_captioning.converters.weight_table import WeightConversionError
from image_captioning.generation import GENERATION_PRESETS, GenerationConfigError, resolve_generation_preset
from image_captioning.hub import DownloadError
from unitest.clip_gpt_captioning_checks import convert_reference, greedy_tokens, prefix_difference
from unitest.references.clip_gpt_captioning import ReferenceNet, checkpoint_state_dict, make_reference, sizes

TOLERANCE = 1e-4
TINY = sizes("tiny")


def numpy_state(state):
    return {key: tensor_to_numpy(value) for key, value in state.items()}


@pytest.fixture(scope="module")
def tiny_reference():
    return make_reference(TINY, seed=3)


def test_tiny_checkpoint_converts_through_the_cli_and_matches(tmp_path):
    # A training checkpoint (model_state_dict) with the buffers transformers 4.27 saved.
    reference, captioner = convert_reference(tmp_path, TINY, seed=3, legacy_buffers=True, wrap=True)
    assert captioner.generation == dict(GENERATION_PRESETS["clip-gpt-captioning"])
    assert captioner.model.prefix_length == 5 and not captioner.model.normalize_prefix
    images = np.random.default_rng(0).standard_normal((3, 32, 32, 3)).astype("float32")
    difference, embeddings = prefix_difference(reference, captioner, images)
    assert difference <= TOLERANCE
    expected, ours = greedy_tokens(reference, captioner, embeddings * 30)  # larger inputs: varied tokens
    assert ours == expected
    assert len({tuple(tokens) for tokens in expected}) > 1


def test_doubled_positions_are_what_gpt2_sees(tiny_reference):
    """Without folding upstream's second `wpe` into the converted one, logits would differ."""
    model, _ = convert_clip_gpt_captioning_state_dict(numpy_state(tiny_reference.state_dict()))
    wpe = tiny_reference.td.model.transformer.wpe.weight.detach().numpy()
    converted = ops.convert_to_numpy(model.decoder.backbone.position_embedding.position_embeddings)
    np.testing.assert_array_equal(converted, 2 * wpe)
    embedding = np.random.default_rng(1).standard_normal((1, 64)).astype("float32")
    tokens = [[11, 50256, 7]]
    with torch.no_grad():
        start = tiny_reference.start_embedding(torch.from_numpy(embedding))
        transformer = tiny_reference.td.model.transformer
        emb = torch.cat([start, transformer.wte(torch.tensor(tokens[0]))])
        emb = emb + transformer.wpe(torch.arange(len(emb)))
        expected = tiny_reference.td.model(inputs_embeds=emb[None]).logits.numpy()
    actual = ops.convert_to_numpy(model({"clip_embedding": embedding, "token_ids": np.array(tokens)}))
    assert np.max(np.abs(actual - expected)) <= TOLERANCE


def test_every_missing_extra_and_misshaped_key_is_named(tiny_reference):
    state = numpy_state(tiny_reference.state_dict())
    del state["mp.transformer_encoder.layers.1.norm2.bias"]
    state["mp.transformer_encoder.layers.0.extra.weight"] = np.zeros(3, "float32")
    state["mp.mapper.bias"] = np.zeros(7, "float32")
    with pytest.raises(WeightConversionError) as error:
        convert_clip_gpt_captioning_state_dict(state)
    message = str(error.value)
    assert "missing keys in checkpoint: mp.transformer_encoder.layers.1.norm2.bias" in message
    assert "unexpected keys in checkpoint: mp.transformer_encoder.layers.0.extra.weight" in message
    assert "mp.mapper.bias: checkpoint shape (7,)" in message


def test_not_a_checkpoint_and_mismatched_widths_are_explained(tiny_reference):
    with pytest.raises(WeightConversionError, match="Not a clip-gpt-captioning checkpoint: no 'mp.mapper.weight'"):
        convert_clip_gpt_captioning_state_dict({"ie.model.embeddings.patch_embedding.weight": np.zeros((3, 2)),
                                                "td.model.transformer.wte.weight": np.zeros((3, 2))})
    state = numpy_state(tiny_reference.state_dict())
    wide = make_reference({**TINY, "width": 128}, seed=0)
    state.update({k: v for k, v in numpy_state(wide.state_dict()).items() if k.startswith("td.")})
    with pytest.raises(WeightConversionError, match="widths differ .*CLIP 64, mapper 64, GPT-2 128"):
        convert_clip_gpt_captioning_state_dict(state)


def test_hugging_face_files_fill_the_parts_a_checkpoint_lacks(tiny_reference):
    full = numpy_state(tiny_reference.state_dict())
    mapper_only = {key: value for key, value in full.items() if key.startswith("mp.")}
    hf_clip = {"vision_model." + key[len("ie.model."):]: value for key, value in full.items() if key.startswith("ie.")}
    hf_clip.update({"text_model.embeddings.token_embedding.weight": np.zeros((5, 4), "float32"),
                    "visual_projection.weight": np.zeros((4, 64), "float32"), "logit_scale": np.float32(1)})
    hf_gpt2 = {key[len("td.model."):]: value for key, value in full.items() if key.startswith("td.")}
    expected, size = convert_clip_gpt_captioning_state_dict(full)
    model, _ = convert_clip_gpt_captioning_state_dict(mapper_only, hf_clip, hf_gpt2)
    for a, b in zip(expected.weights, model.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    with pytest.raises(WeightConversionError, match=r"no gpt2 weights .*pass the Hugging Face GPT-2 \(gpt2 for S"):
        convert_clip_gpt_captioning_state_dict(mapper_only, hf_clip)
    with pytest.raises(WeightConversionError, match="already holds the clip weights .*drop the clip file"):
        convert_clip_gpt_captioning_state_dict(full, hf_clip)


@pytest.mark.parametrize("size", ["S", "L"])
def test_size_and_layers_are_read_off_upstream_shapes(size):
    with torch.device("meta"):  # shapes only, no memory
        net = ReferenceNet(sizes(size))
    state = {key: np.broadcast_to(np.float32(0), tuple(value.shape)) for key, value in net.state_dict().items()}
    config = infer_clip_gpt_captioning_config(state)
    width, patch, mapper_layers, layers = {"S": (768, 32, 6, 12), "L": (1024, 14, 5, 24)}[size]
    assert config["size"] == size
    assert config["image_encoder"] == {"input_resolution": 224, "patch_size": patch, "hidden_dim": width,
                                       "num_layers": layers, "num_heads": width // 64, "output_dim": width,
                                       "use_projection": False}
    assert config["mapper"] == {"input_dim": width, "hidden_dim": width, "mapped_length": 4,
                                "num_layers": mapper_layers, "num_heads": 16, "intermediate_dim": 4 * width}
    assert (config["decoder"]["hidden_dim"], config["decoder"]["num_layers"]) == (width, layers)


def test_generation_preset_is_resolved_and_overridable():
    assert resolve_generation_preset({"preset": "clip-gpt-captioning", "max_length": 12}) == {
        "strategy": "greedy", "max_length": 12, "stop_tokens": [50256]}
    with pytest.raises(GenerationConfigError, match="Unknown generation preset 'nope'.*clip-gpt-captioning"):
        resolve_generation_preset({"preset": "nope"})


def test_pooled_vit_round_trips_without_a_projection():
    encoder = CLIPVisionTransformer(16, 8, 8, 1, 2, output_dim=8, use_projection=False, name="pooled")
    assert "proj" not in [v.name for v in encoder.weights]
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(encoder))
    clone.set_weights(encoder.get_weights())
    images = np.random.default_rng(0).standard_normal((2, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(clone(images)), ops.convert_to_numpy(encoder(images)))
    with pytest.raises(ValueError, match="pass output_dim=8"):
        CLIPVisionTransformer(16, 8, 8, 1, 2, output_dim=6, use_projection=False)


@pytest.mark.parametrize("name", ["clip-gpt-captioning-s", "clip-gpt-captioning-l"])
def test_named_models_offline_say_which_file_to_fetch_and_where(name, tmp_path):
    hparams = hub.load_hparams(name)
    assert hparams["checkpoint"]["page"].startswith("https://drive.google.com/file/d/")
    offline = {**hparams, "checkpoint": {**hparams["checkpoint"], "url": "http://127.0.0.1:9/model.pt"}}
    filename = hparams["checkpoint"]["filename"]
    with pytest.raises(DownloadError, match=rf"Could not download {filename} .*put it at .*official.*{filename}"):
        convert_named_model(offline, tmp_path)


def test_named_model_converts_a_local_checkpoint(tmp_path, tiny_reference):
    path = tmp_path / "model.pt"
    torch.save(checkpoint_state_dict(tiny_reference), path)
    captioner = convert_named_model({**hub.load_hparams("clip-gpt-captioning-s"), "name": "tiny"}, tmp_path, path)
    reloaded = ClipCap.from_pretrained(tmp_path / "tiny")
    assert reloaded.generation == captioner.generation == dict(GENERATION_PRESETS["clip-gpt-captioning"])
    for a, b in zip(captioner.model.weights, reloaded.model.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
