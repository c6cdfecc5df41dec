"""OpenAI's PyTorch CLIP (`clip/model.py` of clip-anytorch) as a reference, with random weights.

The `clip` package's `__init__` imports torchvision, so `model.py` is loaded by file path.
"""

import copy
import functools
import importlib.util
import warnings
from pathlib import Path

import numpy as np


@functools.lru_cache(maxsize=None)
def load_openai_clip_model_module():
    """Imports clip-anytorch's `clip/model.py` without running the package's `__init__`."""
    spec = importlib.util.find_spec("clip")
    assert spec is not None and spec.submodule_search_locations, "clip-anytorch is not installed"
    path = Path(list(spec.submodule_search_locations)[0]) / "model.py"
    module_spec = importlib.util.spec_from_file_location("openai_clip_reference_model", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def architecture(config):
    """A get_config() without the arguments every Keras layer takes (name, trainable, dtype)."""
    return {key: value for key, value in config.items() if key not in ("name", "trainable", "dtype")}


def torch_clip_kwargs(config):
    """OpenAI `CLIP(...)` arguments from `{"image_encoder": {...}, "text_encoder": {...}}`."""
    image, text = config["image_encoder"], config["text_encoder"]
    assert image["output_dim"] == text["output_dim"], "OpenAI's CLIP shares one embed_dim"
    vit = image["type"] == "vit"
    width = image["hidden_dim"] if vit else image["stem_filters"]
    assert image["num_heads"] == (width // 64 if vit else width * 32 // 64), "OpenAI derives heads"
    return {
        "embed_dim": image["output_dim"],
        "image_resolution": image["input_resolution"],
        "vision_layers": image["num_layers"] if vit else tuple(image["stackwise_num_blocks"]),
        "vision_width": width,
        "vision_patch_size": image["patch_size"] if vit else None,
        "context_length": text["max_sequence_length"],
        "vocab_size": text["vocabulary_size"],
        "transformer_width": text["hidden_dim"],
        "transformer_heads": text["num_heads"],
        "transformer_layers": text["num_layers"],
    }


def randomize_defaults_(model, seed, scale=0.1):
    """Replaces the values OpenAI's init leaves constant (biases, norms, BN statistics) by random ones.

    Without this, BatchNorm is the identity, `bn3` zeroes every residual branch and biases are 0,
    so a parity test would not see mistakes in those parts.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)

    def noise(tensor):
        return torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype)

    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.copy_(1.0 + scale * noise(module.weight))
                module.bias.add_(scale * noise(module.bias))
                module.running_mean.add_(scale * noise(module.running_mean))
                module.running_var.copy_(torch.exp(scale * noise(module.running_var)))
            elif isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + scale * noise(module.weight))
                module.bias.add_(scale * noise(module.bias))
            elif isinstance(module, torch.nn.MultiheadAttention):
                module.in_proj_bias.add_(scale * noise(module.in_proj_bias))
                module.out_proj.bias.add_(scale * noise(module.out_proj.bias))
    return model


def build_openai_clip(config, seed=0):
    """A random-weight OpenAI `CLIP` in eval mode, float32; `seed` fixes every value."""
    import torch

    module = load_openai_clip_model_module()
    torch.manual_seed(seed)
    model = module.CLIP(**torch_clip_kwargs(config))
    return randomize_defaults_(model, seed + 1).eval()


def save_torchscript_archive(model, path):
    """Saves `model` as OpenAI distributes CLIP: a traced TorchScript archive of `forward(image, text)`.

    The distributed archives also hold the scalars `input_resolution`, `context_length` and
    `vocab_size` in their state dict (OpenAI's `build_model` deletes them before loading).
    """
    import torch

    model = copy.deepcopy(model).eval()
    resolution = model.visual.input_resolution
    context_length, vocab_size = model.context_length, model.vocab_size
    del model.context_length, model.vocab_size
    model.register_buffer("input_resolution", torch.tensor(resolution))
    model.register_buffer("context_length", torch.tensor(context_length))
    model.register_buffer("vocab_size", torch.tensor(vocab_size))
    image = torch.zeros(1, 3, resolution, resolution)
    text = torch.zeros(1, context_length, dtype=torch.long)
    text[0, :3] = torch.tensor([vocab_size - 2, 5, vocab_size - 1])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, (image, text), check_trace=False)
    torch.jit.save(traced, str(path))
    return path


def state_dict_numpy(model):
    return {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}


def encode_image(model, images_nhwc):
    """Reference image embeddings for NHWC float32 NumPy images."""
    import torch

    with torch.no_grad():
        images = torch.from_numpy(np.ascontiguousarray(np.transpose(images_nhwc, (0, 3, 1, 2))))
        return model.encode_image(images).numpy()


def encode_text(model, token_ids):
    import torch

    with torch.no_grad():
        return model.encode_text(torch.from_numpy(np.asarray(token_ids, dtype=np.int64))).numpy()


def random_token_ids(rng, batch, context_length, vocab_size):
    """Padded sequences whose largest id marks the end of text, like CLIP's tokenizer output."""
    ids = np.zeros((batch, context_length), dtype=np.int64)
    for row in range(batch):
        length = rng.integers(2, context_length + 1)
        ids[row, : length - 1] = rng.integers(1, vocab_size - 1, size=length - 1)
        ids[row, length - 1] = vocab_size - 1
    return ids
