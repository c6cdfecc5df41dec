"""CLIP ResNet image encoder, mirroring OpenAI's `ModifiedResNet` (`clip/model.py`).

Differences from a torchvision ResNet: a 3-convolution stem followed by an average pool,
anti-aliased downsampling (an average pool before strided paths) and an attention pool head.
"""

import keras
from keras import ops

BATCH_NORM_EPSILON = 1e-5  # PyTorch nn.BatchNorm2d defaults
BATCH_NORM_MOMENTUM = 0.9  # Keras momentum = 1 - PyTorch momentum (0.1)


def _conv(filters, kernel_size, name, policy, strides=1):
    # Padding is applied explicitly: Keras "same" pads a strided 3x3 conv asymmetrically, PyTorch does not.
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, use_bias=False, name=name, dtype=policy)


def _batch_norm(name, policy):
    return keras.layers.BatchNormalization(
        epsilon=BATCH_NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM, name=name, dtype=policy
    )


def _pad(x):
    return ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))


def _with_channels(shape, channels):
    return tuple(shape[:-1]) + (channels,)


def _pooled(shape, stride):
    return (shape[0],) + tuple(None if s is None else s // stride for s in shape[1:3]) + (shape[3],)


@keras.saving.register_keras_serializable(package="custom_architectures")
class Bottleneck(keras.layers.Layer):
    """Bottleneck residual block (1x1, 3x3, avgpool if strided, 1x1 with 4x expansion).

    Args:
        inplanes: input channels.
        planes: bottleneck channels; the block outputs `4 * planes`.
        stride: downsampling factor, done by average pooling.

    Example:
    ```python
    block = Bottleneck(inplanes=64, planes=32, stride=2)
    y = block(ops.ones((1, 8, 8, 64)))   # (1, 4, 4, 128)
    ```
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.inplanes = inplanes
        self.planes = planes
        self.stride = stride
        policy = self.dtype_policy
        self.conv1 = _conv(planes, 1, "conv1", policy)
        self.bn1 = _batch_norm("bn1", policy)
        self.conv2 = _conv(planes, 3, "conv2", policy)
        self.bn2 = _batch_norm("bn2", policy)
        # One pooling layer serves the main path and the shortcut: both are AvgPool2d(stride) in PyTorch.
        self.avgpool = keras.layers.AveragePooling2D(stride, name="avgpool", dtype=policy) if stride > 1 else None
        self.conv3 = _conv(planes * self.expansion, 1, "conv3", policy)
        self.bn3 = _batch_norm("bn3", policy)
        self.downsample = None
        if stride > 1 or inplanes != planes * self.expansion:
            # downsample[0], downsample[1] mirror PyTorch's `downsample.0` (conv) and `downsample.1` (bn).
            self.downsample = [
                _conv(planes * self.expansion, 1, "downsample_0", policy),
                _batch_norm("downsample_1", policy),
            ]

    def build(self, input_shape):
        self.conv1.build(input_shape)
        self.bn1.build(_with_channels(input_shape, self.planes))
        self.conv2.build(_with_channels(input_shape, self.planes))
        self.bn2.build(_with_channels(input_shape, self.planes))
        pooled_shape = _pooled(input_shape, self.stride)
        self.conv3.build(_with_channels(pooled_shape, self.planes))
        self.bn3.build(_with_channels(pooled_shape, self.planes * self.expansion))
        if self.downsample is not None:
            self.downsample[0].build(pooled_shape)
            self.downsample[1].build(_with_channels(pooled_shape, self.planes * self.expansion))

    def call(self, x, training=False):
        out = ops.relu(self.bn1(self.conv1(x), training=training))
        out = ops.relu(self.bn2(self.conv2(_pad(out)), training=training))
        if self.avgpool is not None:
            out = self.avgpool(out)
        out = self.bn3(self.conv3(out), training=training)
        identity = x
        if self.downsample is not None:
            if self.avgpool is not None:
                identity = self.avgpool(identity)
            identity = self.downsample[1](self.downsample[0](identity), training=training)
        return ops.relu(out + identity)

    def compute_output_shape(self, input_shape):
        return _with_channels(_pooled(input_shape, self.stride), self.planes * self.expansion)

    def get_config(self):
        return {**super().get_config(), "inplanes": self.inplanes, "planes": self.planes, "stride": self.stride}


@keras.saving.register_keras_serializable(package="custom_architectures")
class AttentionPool2d(keras.layers.Layer):
    """Attention pooling: the mean token, with positions, attends to all tokens; returns it projected.

    Args:
        spacial_dim: side of the input feature map (input_resolution // 32).
        embed_dim: channels of the feature map.
        num_heads: attention heads.
        output_dim: size of the output (`c_proj`), `embed_dim` when None.

    Example:
    ```python
    pool = AttentionPool2d(spacial_dim=7, embed_dim=2048, num_heads=32, output_dim=1024)
    y = pool(ops.ones((1, 7, 7, 2048)))   # (1, 1024)
    ```
    """

    def __init__(self, spacial_dim, embed_dim, num_heads, output_dim=None, **kwargs):
        super().__init__(**kwargs)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.spacial_dim = spacial_dim
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.output_dim = output_dim
        policy = self.dtype_policy
        self.k_proj = keras.layers.Dense(embed_dim, name="k_proj", dtype=policy)
        self.q_proj = keras.layers.Dense(embed_dim, name="q_proj", dtype=policy)
        self.v_proj = keras.layers.Dense(embed_dim, name="v_proj", dtype=policy)
        self.c_proj = keras.layers.Dense(output_dim or embed_dim, name="c_proj", dtype=policy)

    def build(self, input_shape):
        self.positional_embedding = self.add_weight(
            shape=(self.spacial_dim**2 + 1, self.embed_dim), initializer="zeros", name="positional_embedding"
        )
        token_shape = (None, self.embed_dim)
        for layer in (self.k_proj, self.q_proj, self.v_proj, self.c_proj):
            layer.build(token_shape)

    def call(self, x):
        batch = ops.shape(x)[0]
        head_dim = self.embed_dim // self.num_heads
        x = ops.reshape(x, (batch, -1, self.embed_dim))  # row-major, like PyTorch's flatten of (H, W)
        x = ops.concatenate([ops.mean(x, axis=1, keepdims=True), x], axis=1)
        x = x + ops.cast(self.positional_embedding, x.dtype)
        q = ops.reshape(self.q_proj(x[:, :1]), (batch, self.num_heads, head_dim))
        k = ops.reshape(self.k_proj(x), (batch, -1, self.num_heads, head_dim))
        v = ops.reshape(self.v_proj(x), (batch, -1, self.num_heads, head_dim))
        q = q * ops.cast(head_dim**-0.5, q.dtype)
        weights = ops.softmax(ops.einsum("bhd,bkhd->bhk", q, k), axis=-1)
        out = ops.einsum("bhk,bkhd->bhd", weights, v)
        return self.c_proj(ops.reshape(out, (batch, self.embed_dim)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim or self.embed_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "spacial_dim": self.spacial_dim,
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "output_dim": self.output_dim,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class CLIPModifiedResNet(keras.Model):
    """ResNet image encoder of CLIP RN50/RN101/RN50x4/x16/x64: normalized NHWC images -> embeddings.

    Args:
        layers: blocks in each of the 4 stages, e.g. (3, 4, 6, 3) for RN50.
        output_dim: size of the projected embedding (1024 for RN50).
        heads: attention heads of the pooling head (width * 32 // 64 in OpenAI's models).
        input_resolution: image height and width (224 for RN50, 288 for RN50x4).
        width: stem width (64 for RN50).

    Example:
    ```python
    encoder = CLIPModifiedResNet(layers=(3, 4, 6, 3), output_dim=1024, heads=32)
    embeddings = encoder(images)   # images: (B, 224, 224, 3) float32 -> (B, 1024), not normalized
    ```
    """

    def __init__(self, layers, output_dim, heads, input_resolution=224, width=64, **kwargs):
        super().__init__(**kwargs)
        self.layer_counts = tuple(layers)
        if len(self.layer_counts) != 4:
            raise ValueError(f"layers must give 4 stage depths, got {layers}")
        self.output_dim = output_dim
        self.heads = heads
        self.input_resolution = input_resolution
        self.width = width
        policy = self.dtype_policy

        self.conv1 = _conv(width // 2, 3, "conv1", policy, strides=2)
        self.bn1 = _batch_norm("bn1", policy)
        self.conv2 = _conv(width // 2, 3, "conv2", policy)
        self.bn2 = _batch_norm("bn2", policy)
        self.conv3 = _conv(width, 3, "conv3", policy)
        self.bn3 = _batch_norm("bn3", policy)
        self.avgpool = keras.layers.AveragePooling2D(2, name="avgpool", dtype=policy)

        inplanes = width
        stages = []
        for index, (blocks, stride) in enumerate(zip(self.layer_counts, (1, 2, 2, 2))):
            planes = width * 2**index
            stage = []
            for block_index in range(blocks):
                name = f"layer{index + 1}_{block_index}"
                stage.append(Bottleneck(inplanes, planes, stride if block_index == 0 else 1, name=name, dtype=policy))
                inplanes = planes * Bottleneck.expansion
            stages.append(stage)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

        self.attnpool = AttentionPool2d(input_resolution // 32, width * 32, heads, output_dim, name="attnpool", dtype=policy)
        self.build((None, input_resolution, input_resolution, 3))

    def build(self, input_shape):
        stem_shape = (None, None, None)
        self.conv1.build(input_shape)
        self.bn1.build(stem_shape + (self.width // 2,))
        self.conv2.build(stem_shape + (self.width // 2,))
        self.bn2.build(stem_shape + (self.width // 2,))
        self.conv3.build(stem_shape + (self.width // 2,))
        self.bn3.build(stem_shape + (self.width,))
        shape = (None, None, None, self.width)
        for block in self.layer1 + self.layer2 + self.layer3 + self.layer4:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.attnpool.build(shape)
        self.built = True

    def call(self, images, training=False):
        x = ops.relu(self.bn1(self.conv1(_pad(images)), training=training))
        x = ops.relu(self.bn2(self.conv2(_pad(x)), training=training))
        x = ops.relu(self.bn3(self.conv3(_pad(x)), training=training))
        x = self.avgpool(x)
        for block in self.layer1 + self.layer2 + self.layer3 + self.layer4:
            x = block(x, training=training)
        return self.attnpool(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {
            "layers": self.layer_counts,
            "output_dim": self.output_dim,
            "heads": self.heads,
            "input_resolution": self.input_resolution,
            "width": self.width,
        }
