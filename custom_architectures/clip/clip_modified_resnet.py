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
        input_filters: input channels (OpenAI's `inplanes`).
        filters: bottleneck channels (OpenAI's `planes`); the block outputs `4 * filters`.
        stride: downsampling factor, done by average pooling.

    Example:
    ```python
    block = Bottleneck(input_filters=64, filters=32, stride=2)
    y = block(ops.ones((1, 8, 8, 64)))   # (1, 4, 4, 128)
    ```
    """

    expansion = 4

    def __init__(self, input_filters, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.input_filters = input_filters
        self.filters = filters
        self.stride = stride
        policy = self.dtype_policy
        self.conv1 = _conv(filters, 1, "conv1", policy)
        self.bn1 = _batch_norm("bn1", policy)
        self.conv2 = _conv(filters, 3, "conv2", policy)
        self.bn2 = _batch_norm("bn2", policy)
        # One pooling layer serves the main path and the shortcut: both are AvgPool2d(stride) in PyTorch.
        self.avgpool = keras.layers.AveragePooling2D(stride, name="avgpool", dtype=policy) if stride > 1 else None
        self.conv3 = _conv(filters * self.expansion, 1, "conv3", policy)
        self.bn3 = _batch_norm("bn3", policy)
        self.downsample = None
        if stride > 1 or input_filters != filters * self.expansion:
            # downsample[0], downsample[1] mirror PyTorch's `downsample.0` (conv) and `downsample.1` (bn).
            self.downsample = [
                _conv(filters * self.expansion, 1, "downsample_0", policy),
                _batch_norm("downsample_1", policy),
            ]

    def build(self, input_shape):
        self.conv1.build(input_shape)
        self.bn1.build(_with_channels(input_shape, self.filters))
        self.conv2.build(_with_channels(input_shape, self.filters))
        self.bn2.build(_with_channels(input_shape, self.filters))
        pooled_shape = _pooled(input_shape, self.stride)
        self.conv3.build(_with_channels(pooled_shape, self.filters))
        self.bn3.build(_with_channels(pooled_shape, self.filters * self.expansion))
        if self.downsample is not None:
            self.downsample[0].build(pooled_shape)
            self.downsample[1].build(_with_channels(pooled_shape, self.filters * self.expansion))

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
        return _with_channels(_pooled(input_shape, self.stride), self.filters * self.expansion)

    def get_config(self):
        return {**super().get_config(), "input_filters": self.input_filters, "filters": self.filters, "stride": self.stride}


@keras.saving.register_keras_serializable(package="custom_architectures")
class AttentionPool2d(keras.layers.Layer):
    """Attention pooling: the mean token, with positions, attends to all tokens; returns it projected.

    Args:
        grid_size: side of the input feature map, input_resolution // 32 (OpenAI's `spacial_dim`).
        hidden_dim: channels of the feature map (OpenAI's `embed_dim`).
        num_heads: attention heads.
        output_dim: size of the output (`c_proj`), `hidden_dim` when None.

    Example:
    ```python
    pool = AttentionPool2d(grid_size=7, hidden_dim=2048, num_heads=32, output_dim=1024)
    y = pool(ops.ones((1, 7, 7, 2048)))   # (1, 1024)
    ```
    """

    def __init__(self, grid_size, hidden_dim, num_heads, output_dim=None, **kwargs):
        super().__init__(**kwargs)
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim={hidden_dim} is not divisible by num_heads={num_heads}")
        self.grid_size = grid_size
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.output_dim = output_dim
        policy = self.dtype_policy
        self.k_proj = keras.layers.Dense(hidden_dim, name="k_proj", dtype=policy)
        self.q_proj = keras.layers.Dense(hidden_dim, name="q_proj", dtype=policy)
        self.v_proj = keras.layers.Dense(hidden_dim, name="v_proj", dtype=policy)
        self.c_proj = keras.layers.Dense(output_dim or hidden_dim, name="c_proj", dtype=policy)

    def build(self, input_shape):
        self.positional_embedding = self.add_weight(
            shape=(self.grid_size**2 + 1, self.hidden_dim), initializer="zeros", name="positional_embedding"
        )
        token_shape = (None, self.hidden_dim)
        for layer in (self.k_proj, self.q_proj, self.v_proj, self.c_proj):
            layer.build(token_shape)

    def call(self, x):
        batch = ops.shape(x)[0]
        head_dim = self.hidden_dim // self.num_heads
        x = ops.reshape(x, (batch, -1, self.hidden_dim))  # row-major, like PyTorch's flatten of (H, W)
        x = ops.concatenate([ops.mean(x, axis=1, keepdims=True), x], axis=1)
        x = x + ops.cast(self.positional_embedding, x.dtype)
        q = ops.reshape(self.q_proj(x[:, :1]), (batch, self.num_heads, head_dim))
        k = ops.reshape(self.k_proj(x), (batch, -1, self.num_heads, head_dim))
        v = ops.reshape(self.v_proj(x), (batch, -1, self.num_heads, head_dim))
        q = q * ops.cast(head_dim**-0.5, q.dtype)
        weights = ops.softmax(ops.einsum("bhd,bkhd->bhk", q, k), axis=-1)
        out = ops.einsum("bhk,bkhd->bhd", weights, v)
        return self.c_proj(ops.reshape(out, (batch, self.hidden_dim)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim or self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.grid_size,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "output_dim": self.output_dim,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class CLIPModifiedResNet(keras.Model):
    """ResNet image encoder of CLIP RN50/RN101/RN50x4/x16/x64: normalized NHWC images -> embeddings.

    Args:
        stackwise_num_blocks: blocks in each of the 4 stages, e.g. (3, 4, 6, 3) for RN50
            (OpenAI's `layers`).
        output_dim: size of the projected embedding (1024 for RN50).
        num_heads: attention heads of the pooling head (stem_filters * 32 // 64 in OpenAI's models).
        input_resolution: image height and width (224 for RN50, 288 for RN50x4).
        stem_filters: channels out of the stem, 64 for RN50 (OpenAI's `width`); stage i has
            `stem_filters * 2**i` bottleneck channels.

    Example:
    ```python
    encoder = CLIPModifiedResNet(stackwise_num_blocks=(3, 4, 6, 3), output_dim=1024, num_heads=32)
    embeddings = encoder(images)   # images: (B, 224, 224, 3) float32 -> (B, 1024), not normalized
    ```
    """

    def __init__(self, stackwise_num_blocks, output_dim, num_heads, input_resolution=224, stem_filters=64, **kwargs):
        super().__init__(**kwargs)
        self.stackwise_num_blocks = tuple(stackwise_num_blocks)
        if len(self.stackwise_num_blocks) != 4:
            raise ValueError(f"stackwise_num_blocks must give 4 stage depths, got {stackwise_num_blocks}")
        self.output_dim = output_dim
        self.num_heads = num_heads
        self.input_resolution = input_resolution
        self.stem_filters = stem_filters
        policy = self.dtype_policy

        self.conv1 = _conv(stem_filters // 2, 3, "conv1", policy, strides=2)
        self.bn1 = _batch_norm("bn1", policy)
        self.conv2 = _conv(stem_filters // 2, 3, "conv2", policy)
        self.bn2 = _batch_norm("bn2", policy)
        self.conv3 = _conv(stem_filters, 3, "conv3", policy)
        self.bn3 = _batch_norm("bn3", policy)
        self.avgpool = keras.layers.AveragePooling2D(2, name="avgpool", dtype=policy)

        input_filters = stem_filters
        stages = []
        for index, (blocks, stride) in enumerate(zip(self.stackwise_num_blocks, (1, 2, 2, 2))):
            filters = stem_filters * 2**index
            stage = []
            for block_index in range(blocks):
                name = f"layer{index + 1}_{block_index}"
                stage.append(Bottleneck(input_filters, filters, stride if block_index == 0 else 1, name=name, dtype=policy))
                input_filters = filters * Bottleneck.expansion
            stages.append(stage)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

        self.attnpool = AttentionPool2d(
            input_resolution // 32, stem_filters * 32, num_heads, output_dim, name="attnpool", dtype=policy
        )
        self.build((None, input_resolution, input_resolution, 3))

    def build(self, input_shape):
        stem_shape = (None, None, None)
        self.conv1.build(input_shape)
        self.bn1.build(stem_shape + (self.stem_filters // 2,))
        self.conv2.build(stem_shape + (self.stem_filters // 2,))
        self.bn2.build(stem_shape + (self.stem_filters // 2,))
        self.conv3.build(stem_shape + (self.stem_filters // 2,))
        self.bn3.build(stem_shape + (self.stem_filters,))
        shape = (None, None, None, self.stem_filters)
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
            **super().get_config(),
            "stackwise_num_blocks": self.stackwise_num_blocks,
            "output_dim": self.output_dim,
            "num_heads": self.num_heads,
            "input_resolution": self.input_resolution,
            "stem_filters": self.stem_filters,
        }
