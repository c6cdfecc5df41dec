from custom_architectures.clipcap.clipcap_builder import MAPPERS, build_clipcap_model
from custom_architectures.clipcap.clipcap_clip_gpt_mapper import ClipGPTEncoderLayer, ClipGPTMapper
from custom_architectures.clipcap.clipcap_mlp_mapper import ClipCapMLPMapper
from custom_architectures.clipcap.clipcap_model import ClipCapModel
from custom_architectures.clipcap.clipcap_temporal_mapper import ClipCapTemporalMapper
from custom_architectures.clipcap.clipcap_transformer_mapper import (
    ClipCapAttention,
    ClipCapTransformerLayer,
    ClipCapTransformerMapper,
)

__all__ = [
    "ClipCapAttention",
    "ClipCapMLPMapper",
    "ClipCapModel",
    "ClipCapTemporalMapper",
    "ClipCapTransformerLayer",
    "ClipCapTransformerMapper",
    "ClipGPTEncoderLayer",
    "ClipGPTMapper",
    "MAPPERS",
    "build_clipcap_model",
]
