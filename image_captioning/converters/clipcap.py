"""Official ClipCap `.pt` state dicts (MLP or Transformer mapper + GPT-2) -> ClipCapModel.

Layouts (rmokady/CLIP_prefix_caption `train.py`):
- MLP: `clip_project.model.{0,2}.{weight,bias}` (Linear - Tanh - Linear).
- Transformer: `clip_project.{prefix_const, linear.*}` and
  `clip_project.transformer.layers.N.{norm1, attn.to_queries, attn.to_keys_values, attn.project, norm2, mlp.fc1, mlp.fc2}`.
- GPT-2: `gpt.transformer.*` and the tied `gpt.lm_head.weight`; the `attn.bias` / `attn.masked_bias`
  buffers older transformers saved are dropped.
"""

from custom_architectures.clipcap import ClipCapMLPMapper, ClipCapModel, ClipCapTransformerMapper
from custom_architectures.gpt2 import GPT2Decoder
from image_captioning.converters.gpt2 import fill_gpt2, gpt2_buffer_keys, infer_gpt2_config
from image_captioning.converters.weight_table import WeightConversionError, WeightTable

GPT2_PREFIX = "gpt.transformer."
LM_HEAD_KEY = "gpt.lm_head.weight"
TRANSFORMER_MAPPER_HEADS = 8  # fixed in the official code; shapes cannot tell it


def clipcap_mapper_type(state_dict):
    if "clip_project.model.0.weight" in state_dict:
        return "mlp"
    if "clip_project.prefix_const" in state_dict:
        return "transformer"
    raise WeightConversionError(
        "Not an official ClipCap checkpoint: expected 'clip_project.model.0.weight' (MLP mapper) "
        "or 'clip_project.prefix_const' (Transformer mapper)."
    )


def infer_clipcap_config(state_dict):
    """Mapper and GPT-2 configs read from tensor shapes, as a dict of constructor arguments."""
    mapper_type = clipcap_mapper_type(state_dict)
    if f"{GPT2_PREFIX}wte.weight" not in state_dict:
        raise WeightConversionError(f"ClipCap checkpoint has no GPT-2 weights ('{GPT2_PREFIX}wte.weight').")
    decoder = infer_gpt2_config(state_dict, GPT2_PREFIX)
    gpt_embedding_size = decoder["hidden_dim"]
    if mapper_type == "mlp":
        output_dim, _ = state_dict["clip_project.model.2.weight"].shape
        mapper = {
            "input_dim": int(state_dict["clip_project.model.0.weight"].shape[1]),
            "prefix_length": int(output_dim) // gpt_embedding_size,
            "hidden_dim": gpt_embedding_size,
        }
    else:
        prefix_length, _ = state_dict["clip_project.prefix_const"].shape
        linear_out, prefix_size = state_dict["clip_project.linear.weight"].shape
        layer_ids = {key.split(".")[3] for key in state_dict if key.startswith("clip_project.transformer.layers.")}
        mlp_hidden = state_dict["clip_project.transformer.layers.0.mlp.fc1.weight"].shape[0]
        mapper = {
            "input_dim": int(prefix_size),
            "hidden_dim": gpt_embedding_size,
            "prefix_length": int(prefix_length),
            "clip_length": int(linear_out) // gpt_embedding_size,
            "num_layers": len(layer_ids),
            "num_heads": TRANSFORMER_MAPPER_HEADS,
            "intermediate_dim": int(mlp_hidden),
        }
    return {"mapper_type": mapper_type, "mapper": mapper, "decoder": decoder}


def fill_mlp_mapper(table, mapper):
    table.dense(mapper.model[0], "clip_project.model.0")
    table.dense(mapper.model[2], "clip_project.model.2")


def fill_transformer_mapper(table, mapper):
    table.dense(mapper.linear, "clip_project.linear")
    table.set(mapper.prefix_const, "clip_project.prefix_const")
    for i, layer in enumerate(mapper.transformer_layers):
        key = f"clip_project.transformer.layers.{i}"
        table.layer_norm(layer.norm1, f"{key}.norm1")
        table.dense(layer.attn.to_queries, f"{key}.attn.to_queries", use_bias=False)
        table.dense(layer.attn.to_keys_values, f"{key}.attn.to_keys_values", use_bias=False)
        table.dense(layer.attn.project, f"{key}.attn.project")
        table.layer_norm(layer.norm2, f"{key}.norm2")
        table.dense(layer.mlp_fc1, f"{key}.mlp.fc1")
        table.dense(layer.mlp_fc2, f"{key}.mlp.fc2")


MAPPER_CONVERTERS = {
    "mlp": (ClipCapMLPMapper, fill_mlp_mapper),
    "transformer": (ClipCapTransformerMapper, fill_transformer_mapper),
}


def convert_clipcap(state_dict, image_encoder=None, normalize_prefix=None):
    """Builds a ClipCapModel from an official ClipCap state dict.

    Args:
        state_dict: {key: array} of an official ClipCap `.pt` file.
        image_encoder: a converted CLIP image encoder whose `output_dim` equals the mapper's input
            width, or None for a model fed precomputed CLIP embeddings.
        normalize_prefix: L2-normalise CLIP embeddings before the mapper; by default True for the
            Transformer mapper (trained on normalised RN50x4 embeddings), False for MLP ones.
    """
    config = infer_clipcap_config(state_dict)
    mapper_class, fill_mapper = MAPPER_CONVERTERS[config["mapper_type"]]
    mapper = mapper_class(**config["mapper"], name="mapper")
    if image_encoder is not None and image_encoder.output_dim != mapper.input_dim:
        raise WeightConversionError(
            f"The CLIP image encoder gives {image_encoder.output_dim}-d embeddings but this ClipCap "
            f"checkpoint's mapper expects {mapper.input_dim}-d ones: use "
            f"{'ViT-B/32' if mapper.input_dim == 512 else 'RN50x4' if mapper.input_dim == 640 else 'the CLIP it was trained with'}."
        )
    if normalize_prefix is None:
        normalize_prefix = config["mapper_type"] == "transformer"
    decoder = GPT2Decoder(**config["decoder"], name="decoder")
    table = WeightTable(state_dict, ignored_keys=gpt2_buffer_keys(state_dict, GPT2_PREFIX))
    fill_mapper(table, mapper)
    fill_gpt2(table, decoder, GPT2_PREFIX, LM_HEAD_KEY)
    table.finish(mapper, decoder)
    return ClipCapModel(image_encoder, mapper, decoder, normalize_prefix=normalize_prefix)
