"""The parts of a keras-hub GPT-2 block under Hugging Face GPT-2 names.

keras-hub's `TransformerDecoder` keeps its sublayers in private attributes. This module is the one
place that reads them, so that a keras-hub upgrade that renames them breaks here and nowhere else.
"""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class GPT2BlockView:
    """One GPT-2 block (`transformer.h.N` in Hugging Face) seen through HF's module names.

    Args:
        ln_1: LayerNormalization before attention.
        attn_query, attn_key, attn_value: EinsumDense (hidden_dim -> heads, head_dim); together
            they are HF's fused `attn.c_attn`.
        attn_c_proj: EinsumDense (heads, head_dim -> hidden_dim), HF's `attn.c_proj`.
        attention_scale: the factor queries are multiplied by, 1 / sqrt(head_dim).
        ln_2: LayerNormalization before the MLP.
        mlp_c_fc: Dense hidden_dim -> intermediate_dim with GELU, HF's `mlp.c_fc`.
        mlp_c_proj: Dense intermediate_dim -> hidden_dim, HF's `mlp.c_proj`.

    Example:
    ```python
    view = gpt2_block_view(decoder.backbone.transformer_layers[0])
    h = view.ln_1(x)
    q = view.attn_query(h) * view.attention_scale   # (batch, length, heads, head_dim)
    ```
    """

    ln_1: keras.layers.Layer
    attn_query: keras.layers.Layer
    attn_key: keras.layers.Layer
    attn_value: keras.layers.Layer
    attn_c_proj: keras.layers.Layer
    attention_scale: float
    ln_2: keras.layers.Layer
    mlp_c_fc: keras.layers.Layer
    mlp_c_proj: keras.layers.Layer


def gpt2_block_view(block):
    """The `GPT2BlockView` of a keras-hub `TransformerDecoder` block (`backbone.transformer_layers[i]`)."""
    attention = block._self_attention_layer
    return GPT2BlockView(
        ln_1=block._self_attention_layer_norm,
        attn_query=attention._query_dense,
        attn_key=attention._key_dense,
        attn_value=attention._value_dense,
        attn_c_proj=attention._output_dense,
        attention_scale=attention._inverse_sqrt_key_dim,
        ln_2=block._feedforward_layer_norm,
        mlp_c_fc=block._feedforward_intermediate_dense,
        mlp_c_proj=block._feedforward_output_dense,
    )
