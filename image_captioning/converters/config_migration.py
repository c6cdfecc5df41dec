"""Upgrades a model folder's `config.json` from format version 1 to 2.

Version 2 renamed the constructor arguments of the CLIP, mapper and GPT-2 classes to keras-hub's
names (`hidden_dim`, `num_layers`, `num_heads`, ...). Layer and variable names did not change, so
a version 1 `model.weights.h5` loads unchanged once its config is migrated.
"""

import copy

# class_name -> {old argument: new argument}, for every class whose arguments were renamed.
RENAMED_ARGUMENTS = {
    "CLIPMultiHeadAttention": {"width": "hidden_dim", "heads": "num_heads", "causal": "use_causal_mask"},
    "MLP": {"width": "hidden_dim"},
    "ResidualAttentionBlock": {"width": "hidden_dim", "heads": "num_heads", "causal": "use_causal_mask"},
    "Transformer": {"width": "hidden_dim", "layers": "num_layers", "heads": "num_heads", "causal": "use_causal_mask"},
    "Bottleneck": {"inplanes": "input_filters", "planes": "filters"},
    "AttentionPool2d": {"spacial_dim": "grid_size", "embed_dim": "hidden_dim"},
    "CLIPModifiedResNet": {"layers": "stackwise_num_blocks", "heads": "num_heads", "width": "stem_filters"},
    "CLIPVisionTransformer": {"width": "hidden_dim", "layers": "num_layers", "heads": "num_heads"},
    "CLIPTextEncoder": {
        "context_length": "max_sequence_length",
        "vocab_size": "vocabulary_size",
        "width": "hidden_dim",
        "heads": "num_heads",
        "layers": "num_layers",
    },
    "ClipCapMLPMapper": {"clip_dim": "input_dim", "gpt_dim": "hidden_dim"},
    "ClipCapAttention": {"dim": "hidden_dim"},
    "ClipCapTransformerLayer": {"dim": "hidden_dim"},
    "ClipCapTransformerMapper": {"clip_dim": "input_dim", "gpt_dim": "hidden_dim"},
}
# Version 1's defaults, for arguments an old config may have left out.
MLP_RATIO_DEFAULT = 2.0
TRANSFORMER_MAPPER_WIDTH_DEFAULT = 768


def migrate_layer_config(class_name, config):
    """The version 2 constructor arguments of one serialized layer's version 1 `config`."""
    renames = RENAMED_ARGUMENTS.get(class_name, {})
    migrated = {renames.get(key, key): value for key, value in config.items()}
    if "mlp_ratio" in migrated:
        # The official code sizes the MLP as int(dim * mlp_ratio); version 2 stores that width.
        width = migrated.get("hidden_dim", TRANSFORMER_MAPPER_WIDTH_DEFAULT)
        migrated["intermediate_dim"] = int(width * migrated.pop("mlp_ratio"))
    elif class_name == "ClipCapTransformerLayer" and "intermediate_dim" not in migrated:
        migrated["intermediate_dim"] = int(migrated["hidden_dim"] * MLP_RATIO_DEFAULT)
    return migrated


def _migrate(node):
    if isinstance(node, list):
        return [_migrate(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _migrate(value) for key, value in node.items()}
    if node.get("class_name") in RENAMED_ARGUMENTS and isinstance(node.get("config"), dict):
        node["config"] = migrate_layer_config(node["class_name"], node["config"])
    return node


def migrate_model_config(config):
    """A version 1 `config.json` dict -> the same model as a version 2 dict; `config` is not modified.

    Every serialized Keras object inside `config["model"]` (the ClipCapModel and its nested
    `image_encoder`, `mapper` and `decoder`) gets its renamed arguments; class names are unchanged.
    """
    if config.get("format_version") != 1:
        raise ValueError(f"migrate_model_config upgrades format_version 1, got {config.get('format_version')}.")
    migrated = copy.deepcopy(config)
    migrated["model"] = _migrate(migrated["model"])
    migrated["format_version"] = 2
    return migrated
