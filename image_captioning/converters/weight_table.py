"""Copies a PyTorch state dict into Keras variables, checking every key and every shape.

A converter is a near-identity table built from the helpers below (dense with transpose, conv
permute, layer/batch norm, nn.MultiheadAttention, fused QKV split). `WeightTable.finish` fails loudly, naming the keys,
when a source key was not used or a model variable was not filled.
"""

import numpy as np


class WeightConversionError(ValueError):
    """A checkpoint does not fit the model: missing, unused or mis-shaped keys."""


def transpose(array):
    return np.transpose(array)


def conv_to_keras(array):
    """PyTorch conv kernel (out, in, kh, kw) -> Keras (kh, kw, in, out)."""
    return np.transpose(array, (2, 3, 1, 0))


class WeightTable:
    """Assigns source arrays to Keras variables and records what was used.

    Args:
        state_dict: mapping of source key -> NumPy array.
        ignored_keys: source keys that carry no weights (buffers such as GPT-2's `attn.bias`).

    Example:
    ```python
    table = WeightTable(state_dict)
    table.dense(model.fc, "mlp.c_fc")
    table.finish(model)  # raises WeightConversionError naming any leftover key or variable
    ```
    """

    def __init__(self, state_dict, ignored_keys=()):
        self.state_dict = {key: np.asarray(value) for key, value in state_dict.items()}
        self.used_keys = set(ignored_keys) & set(self.state_dict)
        self.filled_paths = set()
        self.shape_errors = []
        self.missing_keys = []

    def take(self, key):
        if key not in self.state_dict:
            self.missing_keys.append(key)
            return None
        self.used_keys.add(key)
        return self.state_dict[key]

    def set(self, variable, key, transform=None):
        array = self.take(key)
        if array is None:
            return
        if transform is not None:
            array = transform(array)
        self.assign(variable, array, key)

    def assign(self, variable, array, key):
        if tuple(variable.shape) != tuple(array.shape):
            self.shape_errors.append(
                f"{key}: checkpoint shape {tuple(array.shape)} does not fit "
                f"{variable.path} of shape {tuple(variable.shape)}"
            )
            return
        variable.assign(array.astype(variable.dtype))
        self.filled_paths.add(variable.path)

    def dense(self, layer, key, use_bias=True):
        """nn.Linear (out, in) -> keras Dense (in, out)."""
        self.set(layer.kernel, f"{key}.weight", transpose)
        if use_bias:
            self.set(layer.bias, f"{key}.bias")

    def multihead_attention(self, layer, key):
        """nn.MultiheadAttention (fused `in_proj_weight` / `in_proj_bias`, `out_proj`) -> a layer with
        `in_proj` and `out_proj` Dense layers (`CLIPMultiHeadAttention`)."""
        self.set(layer.in_proj.kernel, f"{key}.in_proj_weight", transpose)
        self.set(layer.in_proj.bias, f"{key}.in_proj_bias")
        self.dense(layer.out_proj, f"{key}.out_proj")

    def conv1d_dense(self, layer, key):
        """Hugging Face Conv1D, already (in, out) -> keras Dense."""
        self.set(layer.kernel, f"{key}.weight")
        self.set(layer.bias, f"{key}.bias")

    def conv(self, layer, key, use_bias=False):
        self.set(layer.kernel, f"{key}.weight", conv_to_keras)
        if use_bias:
            self.set(layer.bias, f"{key}.bias")

    def layer_norm(self, layer, key):
        self.set(layer.gamma, f"{key}.weight")
        self.set(layer.beta, f"{key}.bias")

    def batch_norm(self, layer, key):
        self.set(layer.gamma, f"{key}.weight")
        self.set(layer.beta, f"{key}.bias")
        self.set(layer.moving_mean, f"{key}.running_mean")
        self.set(layer.moving_variance, f"{key}.running_var")
        self.used_keys.add(f"{key}.num_batches_tracked")

    def finish(self, *models):
        """Raises WeightConversionError unless every key was used and every variable of `models` filled."""
        problems = []
        if self.missing_keys:
            problems.append("missing keys in checkpoint: " + ", ".join(self.missing_keys))
        unused = sorted(set(self.state_dict) - self.used_keys)
        if unused:
            problems.append("unexpected keys in checkpoint: " + ", ".join(unused))
        problems.extend(self.shape_errors)
        unfilled = [v.path for model in models for v in model.weights if v.path not in self.filled_paths]
        if unfilled:
            problems.append("model variables not filled: " + ", ".join(unfilled))
        if problems:
            raise WeightConversionError("\n".join(problems))
