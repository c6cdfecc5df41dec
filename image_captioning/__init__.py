"""Image and video captioning with CLIP -> ClipCap -> GPT-2 in Keras 3.

`ClipCap` (and Keras with it) is imported on first use, so data-only tools start quickly.
"""

from image_captioning.hub import PRETRAINED_MODELS


def available_models():
    return sorted(PRETRAINED_MODELS)


def load(name_or_dir, **kwargs):
    """Shorthand for `ClipCap.from_pretrained`."""
    from image_captioning.clipcap import ClipCap

    return ClipCap.from_pretrained(name_or_dir, **kwargs)


def __getattr__(name):
    if name == "ClipCap":
        from image_captioning.clipcap import ClipCap

        return ClipCap
    raise AttributeError(f"module 'image_captioning' has no attribute {name!r}")


__all__ = ["ClipCap", "available_models", "load"]
