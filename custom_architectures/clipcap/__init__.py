from custom_architectures.clipcap.clipcap_mlp_mapper import ClipCapMLPMapper
from custom_architectures.clipcap.clipcap_model import ClipCapModel
from custom_architectures.clipcap.clipcap_transformer_mapper import (
    ClipCapAttention,
    ClipCapTransformerLayer,
    ClipCapTransformerMapper,
)

MAPPERS = {"mlp": ClipCapMLPMapper, "transformer": ClipCapTransformerMapper}

__all__ = [
    "ClipCapAttention",
    "ClipCapMLPMapper",
    "ClipCapModel",
    "ClipCapTransformerLayer",
    "ClipCapTransformerMapper",
    "MAPPERS",
]
