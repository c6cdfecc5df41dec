"""Converts Hugging Face `CLIPVisionModelWithProjection` / `CLIPModel` weights to CLIPVisionTransformer.

Hugging Face keeps separate q/k/v projections; they are concatenated into the fused `in_proj` that
OpenAI's checkpoints (and our layers) use. The model must use quick_gelu and LayerNorm eps 1e-5,
as OpenAI's released CLIP models converted to Hugging Face do.
"""

import math

import numpy as np

from custom_architectures.clip import CLIPVisionTransformer
from image_captioning.converters.weight_table import WeightConversionError, WeightTable, transpose

VISION = "vision_model"
# Parts of a full CLIPModel that belong to the text tower, and buffers without weights.
IGNORED_PREFIXES = ("text_model.", "text_projection.", "logit_scale")
IGNORED_KEYS = (f"{VISION}.embeddings.position_ids",)


def _shape(state_dict, key):
    if key not in state_dict:
        raise WeightConversionError(f"missing key in checkpoint: {key} (needed to infer the CLIP configuration)")
    return tuple(state_dict[key].shape)


def infer_hf_clip_vision_config(state_dict, num_heads=None, prefix=VISION, use_projection=True):
    """CLIPVisionTransformer kwargs from shapes; num_heads defaults to hidden_size // 64 like OpenAI's models.

    `prefix` is where the vision tower's `embeddings`, `encoder`, ... live; `use_projection=False`
    describes the pooled output (`pooler_output`), which needs no `visual_projection`.
    """
    width, _, patch_size, _ = _shape(state_dict, f"{prefix}.embeddings.patch_embedding.weight")
    tokens = _shape(state_dict, f"{prefix}.embeddings.position_embedding.weight")[0]
    grid = round(math.sqrt(tokens - 1))
    if grid * grid + 1 != tokens:
        raise WeightConversionError(f"{prefix}.embeddings.position_embedding.weight: {tokens} positions is not a square grid plus one token")
    layer_prefix = f"{prefix}.encoder.layers."
    layers = len({key[len(layer_prefix):].split(".")[0] for key in state_dict if key.startswith(layer_prefix)})
    return {
        "input_resolution": grid * patch_size,
        "patch_size": patch_size,
        "hidden_dim": width,
        "num_layers": layers,
        "num_heads": num_heads or width // 64,
        "output_dim": _shape(state_dict, "visual_projection.weight")[0] if use_projection else width,
        "use_projection": use_projection,
    }


def _fill_fused_in_proj(table, attn, prefix):
    """q, k, v (out, in) -> one Keras kernel (in, 3 * out), in PyTorch's in_proj order."""
    for suffix, variable, to_keras in (("weight", attn.in_proj.kernel, transpose), ("bias", attn.in_proj.bias, None)):
        keys = [f"{prefix}.{name}_proj.{suffix}" for name in ("q", "k", "v")]
        arrays = [table.take(key) for key in keys]
        if any(array is None for array in arrays):
            continue
        if len({array.shape for array in arrays}) != 1:
            table.shape_errors.append(f"{', '.join(keys)}: q/k/v shapes differ {[a.shape for a in arrays]}")
            continue
        fused = np.concatenate(arrays, axis=0)
        table.assign(variable, to_keras(fused) if to_keras else fused, " + ".join(keys))


def convert_hf_clip_vision(state_dict, num_heads=None):
    """Builds a CLIPVisionTransformer from a Hugging Face CLIP state dict and copies every vision weight.

    Args:
        state_dict: `{key: array}` of a CLIPVisionModelWithProjection or a CLIPModel.
        num_heads: attention heads, when the model does not use OpenAI's hidden_size // 64.
    """
    vision = {key: value for key, value in state_dict.items() if not key.startswith(IGNORED_PREFIXES)}
    encoder = CLIPVisionTransformer(**infer_hf_clip_vision_config(vision, num_heads))
    table = WeightTable(vision, ignored_keys=IGNORED_KEYS)
    fill_hf_clip_vision(table, encoder)
    table.finish(encoder)
    return encoder


def fill_hf_clip_vision(table, encoder, prefix=VISION):
    """Adds a Hugging Face CLIP vision tower's rows to `table`: `prefix` is where `embeddings`,
    `pre_layrnorm`, `encoder.layers.N`, `post_layernorm` live; `visual_projection` is read only
    when `encoder.use_projection`."""
    table.conv(encoder.conv1, f"{prefix}.embeddings.patch_embedding")
    table.set(encoder.class_embedding, f"{prefix}.embeddings.class_embedding")
    table.set(encoder.positional_embedding, f"{prefix}.embeddings.position_embedding.weight")
    table.layer_norm(encoder.ln_pre, f"{prefix}.pre_layrnorm")
    for index, block in enumerate(encoder.transformer.resblocks):
        key = f"{prefix}.encoder.layers.{index}"
        _fill_fused_in_proj(table, block.attn, f"{key}.self_attn")
        table.dense(block.attn.out_proj, f"{key}.self_attn.out_proj")
        table.layer_norm(block.ln_1, f"{key}.layer_norm1")
        table.dense(block.mlp.c_fc, f"{key}.mlp.fc1")
        table.dense(block.mlp.c_proj, f"{key}.mlp.fc2")
        table.layer_norm(block.ln_2, f"{key}.layer_norm2")
    table.layer_norm(encoder.ln_post, f"{prefix}.post_layernorm")
    if encoder.use_projection:
        table.set(encoder.proj, "visual_projection.weight", transpose)  # a bias-free nn.Linear
