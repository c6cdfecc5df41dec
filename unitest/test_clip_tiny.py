"""Tiny CLIP encoders (ViT, ModifiedResNet, text) against OpenAI's and Hugging Face's PyTorch code."""

import numpy as np
import pytest
import torch
from keras import ops

from custom_architectures.clip import (
    CLIP_CONFIGS,
    IMAGE_ENCODERS,
    build_image_encoder,
    image_encoder_config,
)
from image_captioning.converters.hf_clip import convert_hf_clip_vision
from image_captioning.converters.openai_clip import (
    convert_openai_clip_image_encoder,
    convert_openai_clip_text_encoder,
    infer_openai_clip_config,
    load_openai_clip,
)
from image_captioning.converters.weight_table import WeightConversionError
from unitest.parity import max_abs_diff
from unitest.references.openai_clip import (
    architecture,
    build_openai_clip,
    encode_image,
    encode_text,
    load_openai_clip_model_module,
    random_token_ids,
    randomize_defaults_,
    save_torchscript_archive,
    state_dict_numpy,
    torch_clip_kwargs,
)

TOLERANCE = 1e-5

TINY_CONFIGS = {
    "vit": {
        "image_encoder": {
            "type": "vit", "input_resolution": 32, "patch_size": 8, "hidden_dim": 128, "num_layers": 2,
            "num_heads": 2, "output_dim": 24,
        },
        "text_encoder": {
            "max_sequence_length": 12, "vocabulary_size": 50, "hidden_dim": 128, "num_layers": 2, "num_heads": 2,
            "output_dim": 24,
        },
    },
    "resnet": {
        # Stage 2 has 2 blocks (one without downsample); 64 px gives a 2x2 map for the attention pool.
        "image_encoder": {
            "type": "resnet", "stackwise_num_blocks": (1, 2, 1, 2), "output_dim": 24, "num_heads": 4,
            "input_resolution": 64, "stem_filters": 8,
        },
        "text_encoder": {
            "max_sequence_length": 12, "vocabulary_size": 50, "hidden_dim": 64, "num_layers": 1, "num_heads": 1,
            "output_dim": 24,
        },
    },
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """kind -> (reference torch CLIP, Keras image encoder, Keras text encoder), loaded from an archive."""
    result = {}
    for seed, (kind, config) in enumerate(TINY_CONFIGS.items()):
        reference = build_openai_clip(config, seed=seed)
        path = save_torchscript_archive(reference, tmp_path_factory.mktemp("clip") / f"{kind}.pt")
        image_encoder, text_encoder = load_openai_clip(path)
        result[kind] = (reference, image_encoder, text_encoder)
    return result


def random_images(encoder, batch=3, seed=0):
    size = encoder.input_resolution
    return np.random.default_rng(seed).standard_normal((batch, size, size, 3)).astype("float32")


@pytest.mark.parametrize("kind", ["vit", "resnet"])
def test_image_encoder_matches_openai(kind, converted):
    reference, image_encoder, _ = converted[kind]
    images = random_images(image_encoder)
    expected = encode_image(reference, images)
    actual = ops.convert_to_numpy(image_encoder(images))
    diff = max_abs_diff(actual, expected)
    print(f"{kind} image max abs diff {diff:.2e}")
    assert actual.shape == (3, TINY_CONFIGS[kind]["image_encoder"]["output_dim"])
    assert np.std(expected) > 0.1  # the reference output is not degenerate
    assert diff <= TOLERANCE


@pytest.mark.parametrize("kind", ["vit", "resnet"])
def test_text_encoder_matches_openai(kind, converted):
    reference, _, text_encoder = converted[kind]
    config = TINY_CONFIGS[kind]["text_encoder"]
    token_ids = random_token_ids(np.random.default_rng(1), 4, config["max_sequence_length"], config["vocabulary_size"])
    expected = encode_text(reference, token_ids)
    actual = ops.convert_to_numpy(text_encoder(token_ids))
    diff = max_abs_diff(actual, expected)
    print(f"{kind} text max abs diff {diff:.2e}")
    assert np.std(expected) > 0.1
    assert diff <= TOLERANCE
    # Shorter inputs use the first positions, as OpenAI's encode_text does.
    short = token_ids[:, :8].copy()
    short[:, -1] = config["vocabulary_size"] - 1
    assert max_abs_diff(text_encoder(short), encode_text(reference, short)) <= TOLERANCE


@pytest.mark.parametrize("kind", ["vit", "resnet"])
def test_config_inferred_like_build_model(kind, converted):
    reference, image_encoder, text_encoder = converted[kind]
    state_dict = state_dict_numpy(reference)
    assert infer_openai_clip_config(state_dict) == TINY_CONFIGS[kind]
    projection = {"use_projection": True} if kind == "vit" else {}  # OpenAI's ViTs always project
    assert architecture(image_encoder_config(image_encoder)) == {**TINY_CONFIGS[kind]["image_encoder"], **projection}
    assert architecture(text_encoder.get_config()) == TINY_CONFIGS[kind]["text_encoder"]


@pytest.mark.parametrize("name", sorted(CLIP_CONFIGS))
def test_presets_match_openai_architecture(name):
    """OpenAI's CLIP built on the meta device from each preset has exactly the preset's shapes."""
    preset = CLIP_CONFIGS[name]
    with torch.device("meta"):
        model = load_openai_clip_model_module().CLIP(**torch_clip_kwargs(preset))
    config = infer_openai_clip_config(model.state_dict())
    assert config == {"image_encoder": preset["image_encoder"], "text_encoder": preset["text_encoder"]}
    assert preset["image_encoder"]["type"] in IMAGE_ENCODERS
    sha256 = preset["url"].split("/")[-2]
    assert len(sha256) == 64 and int(sha256, 16) >= 0
    assert preset["url"].endswith(name.replace("/", "-").replace("@", "-") + ".pt")


@pytest.mark.parametrize("kind", ["vit", "resnet"])
def test_config_and_weights_round_trip(kind, converted, tmp_path):
    _, image_encoder, text_encoder = converted[kind]
    images = random_images(image_encoder, seed=2)
    config = TINY_CONFIGS[kind]["text_encoder"]
    token_ids = random_token_ids(np.random.default_rng(3), 2, config["max_sequence_length"], config["vocabulary_size"])
    for encoder, inputs in ((image_encoder, images), (text_encoder, token_ids)):
        clone = type(encoder).from_config(encoder.get_config())
        assert clone.get_config() == encoder.get_config()
        path = tmp_path / f"{type(encoder).__name__}.weights.h5"
        encoder.save_weights(path)
        clone.load_weights(path)
        np.testing.assert_array_equal(ops.convert_to_numpy(clone(inputs)), ops.convert_to_numpy(encoder(inputs)))
    rebuilt = build_image_encoder(image_encoder_config(image_encoder))
    assert type(rebuilt) is type(image_encoder) and rebuilt.get_config() == image_encoder.get_config()


CORRUPTIONS = {
    "vit": {
        "missing": "visual.transformer.resblocks.1.mlp.c_fc.bias",
        "extra": "visual.transformer.resblocks.0.attn.bias_k",
        "shape": "visual.ln_post.weight",
    },
    "resnet": {
        "missing": "visual.layer2.0.downsample.1.running_var",
        "extra": "visual.attnpool.extra_proj.weight",
        "shape": "visual.layer3.0.bn2.bias",
    },
    "text": {
        "missing": "ln_final.bias",
        "extra": "transformer.resblocks.0.attn.bias_k",
        "shape": "transformer.resblocks.0.mlp.c_fc.weight",
    },
}


def corrupt(state_dict, problem, key):
    state_dict = dict(state_dict)
    if problem == "missing":
        assert key in state_dict
        del state_dict[key]
    elif problem == "extra":
        assert key not in state_dict
        state_dict[key] = np.zeros((3,), dtype=np.float32)
    else:
        state_dict[key] = np.concatenate([state_dict[key], state_dict[key]], axis=0)
    return state_dict


@pytest.mark.parametrize("problem", ["missing", "extra", "shape"])
@pytest.mark.parametrize("part", ["vit", "resnet", "text"])
def test_bad_state_dict_names_the_key(part, problem, converted):
    reference = converted["vit" if part == "text" else part][0]
    key = CORRUPTIONS[part][problem]
    state_dict = corrupt(state_dict_numpy(reference), problem, key)
    convert = convert_openai_clip_text_encoder if part == "text" else convert_openai_clip_image_encoder
    with pytest.raises(WeightConversionError, match=key.replace(".", r"\.")):
        convert(state_dict)


def test_missing_shape_key_is_named():
    state_dict = state_dict_numpy(build_openai_clip(TINY_CONFIGS["vit"]))
    del state_dict["visual.conv1.weight"]
    with pytest.raises(WeightConversionError, match=r"visual\.conv1\.weight"):
        convert_openai_clip_image_encoder(state_dict)


# Hugging Face CLIP: separate q/k/v projections, other key names.


def hf_vision_config():
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(
        hidden_size=128, intermediate_size=512, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        patch_size=8, projection_dim=24, hidden_act="quick_gelu", layer_norm_eps=1e-5,
    )


def hf_reference_embeddings(vision_model, visual_projection, images):
    with torch.no_grad():
        pixels = torch.from_numpy(np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2))))
        return visual_projection(vision_model(pixel_values=pixels).pooler_output).numpy()


def test_hf_clip_vision_with_projection_matches():
    from transformers import CLIPVisionModelWithProjection

    torch.manual_seed(0)
    model = CLIPVisionModelWithProjection(hf_vision_config()).eval()
    randomize_defaults_(model, seed=1)
    encoder = convert_hf_clip_vision(state_dict_numpy(model))
    assert architecture(image_encoder_config(encoder)) == {
        "type": "vit", "input_resolution": 32, "patch_size": 8, "hidden_dim": 128, "num_layers": 2, "num_heads": 2,
        "output_dim": 24, "use_projection": True,
    }
    images = random_images(encoder, seed=4)
    with torch.no_grad():
        pixels = torch.from_numpy(np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2))))
        expected = model(pixel_values=pixels).image_embeds.numpy()
    diff = max_abs_diff(encoder(images), expected)
    print(f"HF CLIPVisionModelWithProjection max abs diff {diff:.2e}")
    assert np.std(expected) > 0.1
    assert diff <= TOLERANCE


def test_hf_full_clip_model_ignores_text_and_rejects_unknown_keys():
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(0)
    text_config = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "vocab_size": 50, "max_position_embeddings": 12,
                   "bos_token_id": 48, "eos_token_id": 49}
    model = CLIPModel(CLIPConfig(text_config=text_config, vision_config=hf_vision_config().to_dict(),
                                 projection_dim=24)).eval()
    randomize_defaults_(model, seed=2)
    state_dict = state_dict_numpy(model)
    assert any(key.startswith("text_model.") for key in state_dict)
    encoder = convert_hf_clip_vision(state_dict)
    images = random_images(encoder, seed=5)
    expected = hf_reference_embeddings(model.vision_model, model.visual_projection, images)
    assert max_abs_diff(encoder(images), expected) <= TOLERANCE

    unknown = "vision_model.encoder.layers.0.self_attn.rotary.weight"
    with pytest.raises(WeightConversionError, match=unknown.replace(".", r"\.")):
        convert_hf_clip_vision({**state_dict, unknown: np.zeros(3, np.float32)})
    missing = "vision_model.encoder.layers.1.self_attn.k_proj.bias"
    with pytest.raises(WeightConversionError, match=missing.replace(".", r"\.")):
        convert_hf_clip_vision({key: value for key, value in state_dict.items() if key != missing})
