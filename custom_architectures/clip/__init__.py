from custom_architectures.clip.clip_layers import (
    MLP,
    CLIPMultiHeadAttention,
    QuickGELU,
    ResidualAttentionBlock,
    Transformer,
)
from custom_architectures.clip.clip_modified_resnet import AttentionPool2d, Bottleneck, CLIPModifiedResNet
from custom_architectures.clip.clip_presets import CLIP_CONFIGS
from custom_architectures.clip.clip_text_encoder import CLIPTextEncoder
from custom_architectures.clip.clip_vision_transformer import CLIPVisionTransformer

IMAGE_ENCODERS = {"vit": CLIPVisionTransformer, "resnet": CLIPModifiedResNet}


def build_image_encoder(config):
    """Builds an image encoder from `{"type": "vit" | "resnet", **constructor kwargs}`."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in IMAGE_ENCODERS:
        raise ValueError(f"Unknown image encoder type {kind!r}; expected one of {sorted(IMAGE_ENCODERS)}")
    return IMAGE_ENCODERS[kind](**config)


def image_encoder_config(encoder):
    """Inverse of `build_image_encoder`: the `{"type": ..., **kwargs}` dict of a built encoder."""
    for kind, cls in IMAGE_ENCODERS.items():
        if type(encoder) is cls:
            return {"type": kind, **encoder.get_config()}
    raise TypeError(f"{type(encoder).__name__} is not a CLIP image encoder ({', '.join(c.__name__ for c in IMAGE_ENCODERS.values())})")


__all__ = [
    "AttentionPool2d",
    "Bottleneck",
    "CLIP_CONFIGS",
    "CLIPModifiedResNet",
    "CLIPMultiHeadAttention",
    "CLIPTextEncoder",
    "CLIPVisionTransformer",
    "IMAGE_ENCODERS",
    "MLP",
    "QuickGELU",
    "ResidualAttentionBlock",
    "Transformer",
    "build_image_encoder",
    "image_encoder_config",
]
