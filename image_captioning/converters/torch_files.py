"""Reads PyTorch and safetensors checkpoint files into {key: NumPy array}.

torch is an optional dependency (`pip install image_captioning[convert]`), imported only here.
"""

import zipfile
from pathlib import Path

import numpy as np

# Training checkpoints that hold the model's state dict under a key (with the optimizer's beside it):
# Lightning-style "state_dict", and clip-gpt-captioning's `Trainer.save_ckp` "model_state_dict".
WRAPPER_KEYS = ("state_dict", "model_state_dict")


def import_torch():
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            "Reading PyTorch checkpoints needs torch. Install the convert extra: "
            "pip install 'torch==2.13.0' && pip install -e '.[convert]'"
        ) from error
    return torch


def load_state_dict(path):
    """Loads a checkpoint as {key: float32/int NumPy array}.

    Accepts a plain `torch.save` state dict (.pt/.pth/.bin), a TorchScript archive (OpenAI's
    distributed CLIP files) or a .safetensors file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint not found: {path}. Pass the path of a .pt, .bin or .safetensors file.")
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return dict(load_file(str(path)))
    torch = import_torch()
    if is_torchscript_archive(path):
        loaded = torch.jit.load(str(path), map_location="cpu").state_dict()
    else:
        try:
            loaded = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(
                f"{path} is not a PyTorch state dict that loads safely ({error}). If it is a whole pickled "
                "model from a source you trust, load it with torch and save its state_dict() instead."
            ) from error
    if hasattr(loaded, "state_dict"):
        loaded = loaded.state_dict()
    for wrapper in WRAPPER_KEYS:
        if isinstance(loaded, dict) and isinstance(loaded.get(wrapper), dict):
            loaded = loaded[wrapper]
    return {key: tensor_to_numpy(value) for key, value in loaded.items()}


def is_torchscript_archive(path):
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/constants.pkl") for name in archive.namelist())


def tensor_to_numpy(tensor):
    if hasattr(tensor, "detach"):
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            tensor = tensor.float()
        return tensor.numpy()
    return np.asarray(tensor)
