"""Image and video captioning with CLIP -> ClipCap -> GPT-2 in Keras 3."""

from image_captioning.clipcap import ClipCap
from image_captioning.hub import PRETRAINED_MODELS


def available_models():
    return sorted(PRETRAINED_MODELS)


def load(name_or_dir, **kwargs):
    """Shorthand for `ClipCap.from_pretrained`."""
    return ClipCap.from_pretrained(name_or_dir, **kwargs)


__all__ = ["ClipCap", "available_models", "load"]
