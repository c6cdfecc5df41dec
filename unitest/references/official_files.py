"""Writes random-weight official files (ClipCap `.pt` via torch.save, CLIP TorchScript archive)
and computes the PyTorch end-to-end reference logits."""

import numpy as np
import torch

from unitest.references.clipcap_official import make_reference_clipcap, official_state_dict
from unitest.references.openai_clip import build_openai_clip, save_torchscript_archive

TEXT_TINY = {"max_sequence_length": 12, "vocabulary_size": 50, "hidden_dim": 64, "num_layers": 1, "num_heads": 1}
TEXT_REAL = {"max_sequence_length": 77, "vocabulary_size": 49408, "hidden_dim": 512, "num_layers": 12, "num_heads": 8}

CLIP_CONFIGS = {
    ("mlp", True): dict(type="vit", input_resolution=32, patch_size=8, hidden_dim=128, num_layers=2, num_heads=2,
                        output_dim=32),
    ("transformer", True): dict(type="resnet", stackwise_num_blocks=(1, 1, 1, 1), output_dim=48, num_heads=4,
                                input_resolution=64, stem_filters=8),
    ("mlp", False): dict(type="vit", input_resolution=224, patch_size=32, hidden_dim=768, num_layers=12, num_heads=12,
                         output_dim=512),
    ("transformer", False): dict(type="resnet", stackwise_num_blocks=(4, 6, 10, 6), output_dim=640, num_heads=40,
                                 input_resolution=288, stem_filters=80),
}


def write_official_files(directory, mapper_type, tiny):
    """Returns (clipcap_path, clip_path, torch_clipcap, torch_clip)."""
    image_config = CLIP_CONFIGS[(mapper_type, tiny)]
    text_config = dict(TEXT_TINY if tiny else TEXT_REAL, output_dim=image_config["output_dim"])
    if not tiny and mapper_type == "transformer":
        text_config.update(hidden_dim=640, num_heads=10)
    clip = build_openai_clip({"image_encoder": image_config, "text_encoder": text_config}, seed=11)
    clip_path = save_torchscript_archive(clip, directory / f"clip-{mapper_type}.pt")
    clipcap = make_reference_clipcap(mapper_type, seed=12, tiny=tiny)
    clipcap_path = directory / f"clipcap-{mapper_type}.pt"
    torch.save(official_state_dict(clipcap), clipcap_path)
    return clipcap_path, clip_path, clipcap, clip


def reference_logits(clipcap, clip, images_nhwc, token_ids, normalize_prefix):
    """CLIP encode_image -> (L2 normalise) -> official ClipCaptionModel.forward."""
    with torch.no_grad():
        images = torch.from_numpy(np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2)))
        embedding = clip.encode_image(images).float()
        if normalize_prefix:
            embedding = embedding / embedding.norm(2, -1, keepdim=True)
        return clipcap(torch.from_numpy(token_ids), embedding).numpy()


def random_inputs(resolution, vocabulary_size, batch=2, length=6, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch, resolution, resolution, 3)).astype("float32")
    return images, rng.integers(0, vocabulary_size, (batch, length))
