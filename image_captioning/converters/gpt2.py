"""GPT-2 weights from Hugging Face layout (also used inside official ClipCap files) -> GPT2Decoder."""

import numpy as np

from custom_architectures.gpt2 import GPT2Decoder, gpt2_block_view
from image_captioning.converters.weight_table import WeightConversionError, WeightTable

ATTENTION_BUFFERS = ("attn.bias", "attn.masked_bias")


def gpt2_buffer_keys(state_dict, prefix):
    """The causal-mask buffers older transformers saved with every block; they hold no weights."""
    return [
        key
        for key in state_dict
        if key.startswith(f"{prefix}h.") and key[len(prefix) :].split(".", 2)[-1] in ATTENTION_BUFFERS
    ]


def infer_gpt2_config(state_dict, prefix="transformer."):
    vocabulary_size, hidden_dim = state_dict[f"{prefix}wte.weight"].shape
    num_layers = len({key[len(prefix) :].split(".")[1] for key in state_dict if key.startswith(f"{prefix}h.")})
    return {
        "vocabulary_size": int(vocabulary_size),
        "num_layers": num_layers,
        "num_heads": int(hidden_dim) // 64,  # every GPT-2 size uses 64-wide heads; shapes cannot tell
        "hidden_dim": int(hidden_dim),
        "intermediate_dim": int(state_dict[f"{prefix}h.0.mlp.c_fc.weight"].shape[1]),
        "max_sequence_length": int(state_dict[f"{prefix}wpe.weight"].shape[0]),
    }


def fill_gpt2(table, decoder, prefix="transformer.", lm_head_key="lm_head.weight", position_transform=None):
    """Adds GPT-2 rows to `table`: `prefix` is where `wte`, `h.N`, `ln_f` live; `position_transform`
    is applied to `wpe` (clip-gpt-captioning adds the positions twice: see that converter)."""
    backbone = decoder.backbone
    heads, head_dim = decoder.num_heads, decoder.hidden_dim // decoder.num_heads
    table.set(backbone.token_embedding.embeddings, f"{prefix}wte.weight")
    table.set(backbone.position_embedding.position_embeddings, f"{prefix}wpe.weight", position_transform)
    for i, block in enumerate(backbone.transformer_layers):
        key = f"{prefix}h.{i}"
        view = gpt2_block_view(block)
        table.layer_norm(view.ln_1, f"{key}.ln_1")
        fill_fused_c_attn(table, (view.attn_query, view.attn_key, view.attn_value), f"{key}.attn.c_attn", heads, head_dim)
        table.set(view.attn_c_proj.kernel, f"{key}.attn.c_proj.weight", lambda w: w.reshape(heads, head_dim, -1))
        table.set(view.attn_c_proj.bias, f"{key}.attn.c_proj.bias")
        table.layer_norm(view.ln_2, f"{key}.ln_2")
        table.conv1d_dense(view.mlp_c_fc, f"{key}.mlp.c_fc")
        table.conv1d_dense(view.mlp_c_proj, f"{key}.mlp.c_proj")
    table.layer_norm(backbone.layer_norm, f"{prefix}ln_f")
    if lm_head_key in table.state_dict:
        check_tied_lm_head(table, f"{prefix}wte.weight", lm_head_key)


def fill_fused_c_attn(table, query_key_value, key, heads, head_dim):
    """HF Conv1D `c_attn` (in, 3 * out), q|k|v side by side -> three (in, heads, head_dim) EinsumDense."""
    fused_kernel = table.take(f"{key}.weight")
    fused_bias = table.take(f"{key}.bias")
    if fused_kernel is None or fused_bias is None:
        return
    for dense, kernel, bias in zip(query_key_value, np.split(fused_kernel, 3, axis=1), np.split(fused_bias, 3)):
        table.assign(dense.kernel, kernel.reshape(-1, heads, head_dim), f"{key}.weight")
        table.assign(dense.bias, bias.reshape(heads, head_dim), f"{key}.bias")


def check_tied_lm_head(table, wte_key, lm_head_key):
    lm_head = table.take(lm_head_key)
    if wte_key in table.state_dict and not np.array_equal(lm_head, table.state_dict[wte_key]):
        raise WeightConversionError(
            f"{lm_head_key} differs from {wte_key}: GPT2Decoder ties the output projection to the "
            "token embedding, so an untied checkpoint cannot be represented."
        )


def convert_hf_gpt2(state_dict):
    """Hugging Face GPT2LMHeadModel or GPT2Model state dict -> GPT2Decoder."""
    prefix = "transformer." if "transformer.wte.weight" in state_dict else ""
    if f"{prefix}wte.weight" not in state_dict:
        raise WeightConversionError("Not a GPT-2 checkpoint: no 'transformer.wte.weight' or 'wte.weight' key.")
    decoder = GPT2Decoder(**infer_gpt2_config(state_dict, prefix))
    table = WeightTable(state_dict, ignored_keys=gpt2_buffer_keys(state_dict, prefix))
    fill_gpt2(table, decoder, prefix)
    table.finish(decoder)
    return decoder
