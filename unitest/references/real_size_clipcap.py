"""The real-size random-weight ClipCap used by the speed benchmark and the bfloat16 test: OpenAI
CLIP ViT-B/32 + official ClipCap MLP mapper (prefix 10) + GPT-2 124M in PyTorch, and our Keras
model converted from the same weights."""

from custom_architectures.clip import CLIP_CONFIGS
from image_captioning.converters.clipcap import convert_clipcap
from image_captioning.converters.openai_clip import convert_openai_clip_image_encoder
from unitest.references.clipcap_official import make_reference_clipcap, official_state_dict
from unitest.references.clipcap_official import state_dict_numpy as clipcap_numpy
from unitest.references.openai_clip import build_openai_clip
from unitest.references.openai_clip import state_dict_numpy as clip_numpy


def real_size_vit_b32_clipcap(seed=0):
    """Returns (PyTorch official ClipCap, PyTorch CLIP (whole model), Keras `ClipCapModel` with the
    image encoder), all three in eval mode with the same `seed`-fixed weights."""
    clipcap = make_reference_clipcap("mlp", seed=seed)
    clip = build_openai_clip(CLIP_CONFIGS["ViT-B/32"], seed=seed)
    encoder = convert_openai_clip_image_encoder(clip_numpy(clip))
    model = convert_clipcap(clipcap_numpy(official_state_dict(clipcap)), image_encoder=encoder)
    return clipcap, clip, model
