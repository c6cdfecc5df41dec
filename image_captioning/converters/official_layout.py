"""Writes small random-weight files in the official layouts, so conversion can be shown and tried offline.

No official weights can be downloaded here, and the walkthrough notebook still wants to run the
converter on real files: these are `torch.save` state dicts with exactly the keys and shapes of
an OpenAI CLIP ViT checkpoint (`visual.*`) and of an official ClipCap MLP checkpoint
(`clip_project.*`, `gpt.*`), at toy sizes. They carry no knowledge: captions from them are
random words.
"""

from pathlib import Path

import numpy as np

from image_captioning.converters.torch_files import import_torch

GPT2_VOCABULARY = 50257  # the real vocabulary, so that random captions are made of words


def openai_clip_vit_shapes(width=64, patch_size=8, resolution=32, num_layers=1, output_dim=32):
    """{key: shape} of the image half of an OpenAI CLIP ViT state dict."""
    grid = resolution // patch_size
    shapes = {
        "visual.conv1.weight": (width, 3, patch_size, patch_size),
        "visual.class_embedding": (width,),
        "visual.positional_embedding": (grid * grid + 1, width),
        "visual.ln_pre.weight": (width,), "visual.ln_pre.bias": (width,),
        "visual.ln_post.weight": (width,), "visual.ln_post.bias": (width,),
        "visual.proj": (width, output_dim),
    }
    for index in range(num_layers):
        key = f"visual.transformer.resblocks.{index}"
        shapes.update({
            f"{key}.attn.in_proj_weight": (3 * width, width), f"{key}.attn.in_proj_bias": (3 * width,),
            f"{key}.attn.out_proj.weight": (width, width), f"{key}.attn.out_proj.bias": (width,),
            f"{key}.ln_1.weight": (width,), f"{key}.ln_1.bias": (width,),
            f"{key}.mlp.c_fc.weight": (4 * width, width), f"{key}.mlp.c_fc.bias": (4 * width,),
            f"{key}.mlp.c_proj.weight": (width, 4 * width), f"{key}.mlp.c_proj.bias": (width,),
            f"{key}.ln_2.weight": (width,), f"{key}.ln_2.bias": (width,),
        })
    return shapes


def clipcap_mlp_shapes(input_dim=32, prefix_length=4, hidden_dim=64, num_layers=2, max_positions=64):
    """{key: shape} of an official ClipCap MLP checkpoint (Hugging Face GPT-2 under `gpt.`; Conv1D is (in, out))."""
    mapped = hidden_dim * prefix_length
    shapes = {
        "clip_project.model.0.weight": (mapped // 2, input_dim), "clip_project.model.0.bias": (mapped // 2,),
        "clip_project.model.2.weight": (mapped, mapped // 2), "clip_project.model.2.bias": (mapped,),
        "gpt.transformer.wte.weight": (GPT2_VOCABULARY, hidden_dim),
        "gpt.transformer.wpe.weight": (max_positions, hidden_dim),
        "gpt.transformer.ln_f.weight": (hidden_dim,), "gpt.transformer.ln_f.bias": (hidden_dim,),
    }
    for index in range(num_layers):
        key = f"gpt.transformer.h.{index}"
        shapes.update({
            f"{key}.ln_1.weight": (hidden_dim,), f"{key}.ln_1.bias": (hidden_dim,),
            f"{key}.attn.c_attn.weight": (hidden_dim, 3 * hidden_dim), f"{key}.attn.c_attn.bias": (3 * hidden_dim,),
            f"{key}.attn.c_proj.weight": (hidden_dim, hidden_dim), f"{key}.attn.c_proj.bias": (hidden_dim,),
            f"{key}.ln_2.weight": (hidden_dim,), f"{key}.ln_2.bias": (hidden_dim,),
            f"{key}.mlp.c_fc.weight": (hidden_dim, 4 * hidden_dim), f"{key}.mlp.c_fc.bias": (4 * hidden_dim,),
            f"{key}.mlp.c_proj.weight": (4 * hidden_dim, hidden_dim), f"{key}.mlp.c_proj.bias": (hidden_dim,),
        })
    return shapes


def random_state_dict(shapes, seed=0):
    """Random torch tensors for `shapes`: layer-norm scales near 1, everything else small."""
    torch = import_torch()
    rng = np.random.default_rng(seed)
    state_dict = {}
    for key, shape in shapes.items():
        values = rng.normal(0.0, 0.02, shape).astype(np.float32)
        if key.endswith(".weight") and len(shape) == 1:
            values += 1.0  # a layer-norm scale
        state_dict[key] = torch.from_numpy(values)
    return state_dict


def write_random_official_files(directory, seed=0):
    """Writes `clip_vit_tiny.pt` (OpenAI CLIP layout) and `clipcap_mlp_tiny.pt` (official ClipCap layout).

    Returns `(clipcap_path, clip_path)`, ready for `ClipCap.from_official(clipcap_path, clip_path)`.

    Example:
    ```python
    clipcap_pt, clip_pt = write_random_official_files("official-files")
    captioner = ClipCap.from_official(clipcap_pt, clip_pt)
    ```
    """
    torch = import_torch()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clip_path, clipcap_path = directory / "clip_vit_tiny.pt", directory / "clipcap_mlp_tiny.pt"
    torch.save(random_state_dict(openai_clip_vit_shapes(), seed), clip_path)
    clipcap = random_state_dict(clipcap_mlp_shapes(), seed + 1)
    clipcap["gpt.lm_head.weight"] = clipcap["gpt.transformer.wte.weight"]  # tied, as GPT-2 saves it
    torch.save(clipcap, clipcap_path)
    return clipcap_path, clip_path
