"""Joins the two official files a ClipCap model needs: the ClipCap `.pt` and the OpenAI CLIP file it was trained with."""

from image_captioning.converters.clipcap import convert_clipcap
from image_captioning.converters.openai_clip import convert_openai_clip_image_encoder
from image_captioning.converters.torch_files import load_state_dict


def convert_official_clipcap(clipcap_checkpoint, clip_checkpoint, normalize_prefix=None):
    """Official ClipCap `.pt` + OpenAI CLIP file (TorchScript archive or state dict) -> `ClipCapModel`.

    Args:
        clipcap_checkpoint: path of `coco_weights.pt`, `transformer_weights.pt`, ...
        clip_checkpoint: path of `ViT-B-32.pt`, `RN50x4.pt`, ... (the CLIP the ClipCap file was trained with).
        normalize_prefix: L2-normalise CLIP embeddings before the mapper; None: yes for Transformer mappers.

    Example:
    ```python
    model = convert_official_clipcap("coco_weights.pt", "ViT-B-32.pt")
    ```
    """
    image_encoder = convert_openai_clip_image_encoder(load_state_dict(clip_checkpoint))
    return convert_clipcap(load_state_dict(clipcap_checkpoint), image_encoder, normalize_prefix=normalize_prefix)
