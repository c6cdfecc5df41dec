"""Converts OpenAI CLIP checkpoints (the distributed TorchScript `.pt` files or plain state dicts).

The configuration is inferred from key names and shapes the same way OpenAI's `build_model` does,
so every released model (ViT-B/32 ... RN50x64) loads without naming it.
"""

import math

from custom_architectures.clip import CLIPTextEncoder, build_image_encoder
from image_captioning.converters.torch_files import load_state_dict
from image_captioning.converters.weight_table import WeightConversionError, WeightTable

# Scalars stored in the distributed TorchScript archives, and CLIP's temperature: no weights.
ARCHIVE_METADATA_KEYS = ("input_resolution", "context_length", "vocab_size")
TEXT_IGNORED_KEYS = ARCHIVE_METADATA_KEYS + ("logit_scale",)


def _shape(state_dict, key):
    if key not in state_dict:
        raise WeightConversionError(f"missing key in checkpoint: {key} (needed to infer the CLIP configuration)")
    return tuple(state_dict[key].shape)


def _count_blocks(state_dict, prefix):
    """Number of distinct `<prefix>.<i>.` indices among the keys."""
    depth = prefix.count(".") + 1
    return len({key.split(".")[depth] for key in state_dict if key.startswith(prefix + ".")})


def _grid_side(state_dict, key):
    tokens = _shape(state_dict, key)[0]
    side = round(math.sqrt(tokens - 1))
    if side * side + 1 != tokens:
        raise WeightConversionError(f"{key}: {tokens} positions is not a square grid plus one token")
    return side


def infer_image_encoder_config(state_dict):
    if "visual.proj" in state_dict:
        width, _, patch_size, _ = _shape(state_dict, "visual.conv1.weight")
        return {
            "type": "vit",
            "input_resolution": patch_size * _grid_side(state_dict, "visual.positional_embedding"),
            "patch_size": patch_size,
            "hidden_dim": width,
            "num_layers": _count_blocks(state_dict, "visual.transformer.resblocks"),
            "num_heads": width // 64,
            "output_dim": _shape(state_dict, "visual.proj")[1],
        }
    width = _shape(state_dict, "visual.layer1.0.conv1.weight")[0]
    return {
        "type": "resnet",
        "stackwise_num_blocks": tuple(_count_blocks(state_dict, f"visual.layer{stage}") for stage in (1, 2, 3, 4)),
        "output_dim": _shape(state_dict, "visual.attnpool.c_proj.weight")[0],
        "num_heads": width * 32 // 64,
        "input_resolution": 32 * _grid_side(state_dict, "visual.attnpool.positional_embedding"),
        "stem_filters": width,
    }


def infer_text_encoder_config(state_dict):
    width = _shape(state_dict, "ln_final.weight")[0]
    return {
        "max_sequence_length": _shape(state_dict, "positional_embedding")[0],
        "vocabulary_size": _shape(state_dict, "token_embedding.weight")[0],
        "hidden_dim": width,
        "num_layers": _count_blocks(state_dict, "transformer.resblocks"),
        "num_heads": width // 64,
        "output_dim": _shape(state_dict, "text_projection")[1],
    }


def infer_openai_clip_config(state_dict):
    """`{"image_encoder": {"type": ..., ...}, "text_encoder": {...}}` from a CLIP state dict.

    `text_encoder` is None for a checkpoint holding only `visual.*` weights.
    """
    has_text = "ln_final.weight" in state_dict
    return {
        "image_encoder": infer_image_encoder_config(state_dict),
        "text_encoder": infer_text_encoder_config(state_dict) if has_text else None,
    }


def fill_transformer(table, transformer, prefix):
    for index, block in enumerate(transformer.resblocks):
        key = f"{prefix}.resblocks.{index}"
        table.multihead_attention(block.attn, f"{key}.attn")
        table.layer_norm(block.ln_1, f"{key}.ln_1")
        table.dense(block.mlp.c_fc, f"{key}.mlp.c_fc")
        table.dense(block.mlp.c_proj, f"{key}.mlp.c_proj")
        table.layer_norm(block.ln_2, f"{key}.ln_2")


def _fill_vision_transformer(table, encoder):
    table.conv(encoder.conv1, "visual.conv1")
    table.set(encoder.class_embedding, "visual.class_embedding")
    table.set(encoder.positional_embedding, "visual.positional_embedding")
    table.layer_norm(encoder.ln_pre, "visual.ln_pre")
    fill_transformer(table, encoder.transformer, "visual.transformer")
    table.layer_norm(encoder.ln_post, "visual.ln_post")
    table.set(encoder.proj, "visual.proj")


def _fill_modified_resnet(table, encoder):
    for index in (1, 2, 3):
        table.conv(getattr(encoder, f"conv{index}"), f"visual.conv{index}")
        table.batch_norm(getattr(encoder, f"bn{index}"), f"visual.bn{index}")
    for stage in (1, 2, 3, 4):
        for index, block in enumerate(getattr(encoder, f"layer{stage}")):
            key = f"visual.layer{stage}.{index}"
            for part in (1, 2, 3):
                table.conv(getattr(block, f"conv{part}"), f"{key}.conv{part}")
                table.batch_norm(getattr(block, f"bn{part}"), f"{key}.bn{part}")
            if block.downsample is not None:
                table.conv(block.downsample[0], f"{key}.downsample.0")
                table.batch_norm(block.downsample[1], f"{key}.downsample.1")
    pool = encoder.attnpool
    table.set(pool.positional_embedding, "visual.attnpool.positional_embedding")
    for name in ("k_proj", "q_proj", "v_proj", "c_proj"):
        table.dense(getattr(pool, name), f"visual.attnpool.{name}")


def convert_openai_clip_image_encoder(state_dict):
    """Builds the Keras image encoder of an OpenAI CLIP state dict and copies every `visual.*` weight.

    Keys outside `visual.` (the text model) are ignored; any other mismatch raises
    WeightConversionError naming the keys.
    """
    visual = {key: value for key, value in state_dict.items() if key.startswith("visual.")}
    config = infer_image_encoder_config(visual)
    encoder = build_image_encoder(config)
    table = WeightTable(visual)
    if config["type"] == "vit":
        _fill_vision_transformer(table, encoder)
    else:
        _fill_modified_resnet(table, encoder)
    table.finish(encoder)
    return encoder


def convert_openai_clip_text_encoder(state_dict):
    """Builds the Keras text encoder of an OpenAI CLIP state dict and copies every text weight."""
    text = {key: value for key, value in state_dict.items() if not key.startswith("visual.")}
    encoder = CLIPTextEncoder(**infer_text_encoder_config(text))
    table = WeightTable(text, ignored_keys=TEXT_IGNORED_KEYS)
    table.set(encoder.token_embedding.embeddings, "token_embedding.weight")
    table.set(encoder.positional_embedding, "positional_embedding")
    fill_transformer(table, encoder.transformer, "transformer")
    table.layer_norm(encoder.ln_final, "ln_final")
    table.set(encoder.text_projection, "text_projection")
    table.finish(encoder)
    return encoder


def load_openai_clip(path):
    """Reads an OpenAI CLIP checkpoint file and returns `(image_encoder, text_encoder)`."""
    state_dict = load_state_dict(path)
    return convert_openai_clip_image_encoder(state_dict), convert_openai_clip_text_encoder(state_dict)
