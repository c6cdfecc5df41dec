"""Builds a ClipCapModel from a plain config dict (the `model` section of an hparams preset)."""

from custom_architectures.clip import build_image_encoder
from custom_architectures.clipcap.clipcap_clip_gpt_mapper import ClipGPTMapper
from custom_architectures.clipcap.clipcap_mlp_mapper import ClipCapMLPMapper
from custom_architectures.clipcap.clipcap_model import ClipCapModel
from custom_architectures.clipcap.clipcap_temporal_mapper import ClipCapTemporalMapper
from custom_architectures.clipcap.clipcap_transformer_mapper import ClipCapTransformerMapper
from custom_architectures.gpt2 import GPT2Decoder

MAPPERS = {
    "mlp": ClipCapMLPMapper,
    "transformer": ClipCapTransformerMapper,
    "temporal": ClipCapTemporalMapper,
    "clip_gpt": ClipGPTMapper,  # jmisilo/clip-gpt-captioning's mapping network
}


def build_clipcap_model(config):
    """config: {"image_encoder": {"type": "vit"|"resnet", ...} or None,
    "mapper": {"type": "mlp"|"transformer"|"temporal"|"clip_gpt", ...}, "decoder": {...GPT2Decoder args}, "normalize_prefix": bool}.

    The mapper's `input_dim` defaults to the image encoder's `output_dim` and its `hidden_dim` to
    the decoder's `hidden_dim`.
    """
    image_encoder = build_image_encoder(config["image_encoder"]) if config.get("image_encoder") else None
    decoder = GPT2Decoder(**config["decoder"], name="decoder")
    mapper_config = dict(config["mapper"])
    mapper_type = mapper_config.pop("type")
    if mapper_type not in MAPPERS:
        raise ValueError(f"Unknown mapper type {mapper_type!r} in the model config; use one of {', '.join(MAPPERS)}.")
    mapper_class = MAPPERS[mapper_type]
    mapper_config.setdefault("hidden_dim", decoder.hidden_dim)
    if image_encoder is not None:
        mapper_config.setdefault("input_dim", image_encoder.output_dim)
    mapper = mapper_class(**mapper_config, name="mapper")
    return ClipCapModel(image_encoder, mapper, decoder, normalize_prefix=config.get("normalize_prefix", False))
