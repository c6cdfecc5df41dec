"""Data-parallel training over every local device: `keras.distribution.DataParallel` on JAX,
`tf.distribute.MirroredStrategy` on TensorFlow; a plain single-device run when there is one device."""

from __future__ import annotations

import contextlib
import copy

import keras


def local_devices() -> list[str]:
    """The devices a training run can use: accelerators if any, else CPUs (one, unless split into logical ones)."""
    backend = keras.backend.backend()
    if backend == "jax":
        return keras.distribution.list_devices()
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return [device.name for device in devices]
    return []


@contextlib.contextmanager
def distribution_scope(devices=None):
    """Within it, models are built, compiled and fitted data-parallel over `devices` (default: `local_devices()`).

    Each global batch is split evenly across the devices (so the batch size must divide by their number), every
    device holds a full copy of the weights, and gradients are summed across devices before each update. Yields
    the `DataParallel` or `MirroredStrategy` in use, or None for a single device.

    Example:
    ```python
    with distribution_scope():
        model = build_clipcap_model(config)
        model.compile(optimizer, loss=CaptionLoss(model.prefix_length))
        model.fit(batches, epochs=2)
    ```
    """
    devices = local_devices() if devices is None else list(devices)
    if len(devices) < 2:
        yield None
        return
    backend = keras.backend.backend()
    if backend == "jax":
        distribution = keras.distribution.DataParallel(devices=devices)
        with distribution.scope():
            yield distribution
    elif backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(devices)
        with strategy.scope():
            yield strategy
    else:
        raise NotImplementedError(f"data-parallel training is not wired for the {backend} backend")


def sum_over_replicas(value):
    """`value` summed over the replicas of a TensorFlow `MirroredStrategy` step; `value` itself anywhere else.

    A per-replica loss divided by this sum of its normaliser (e.g. token counts) adds up, over the replicas,
    to the loss of the whole global batch, so a mirrored run follows the single-device run step for step.
    On JAX, `DataParallel` already computes the loss over the whole global batch.
    """
    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def config_for_devices(config, distribution):
    """`config` adjusted to `distribution` (from `distribution_scope`): the global batch must split evenly,
    and a mirrored TensorFlow step runs as a plain graph, because XLA cannot compile a step whose variables
    live on several devices ("Trying to access resource ... located in device CPU:1 from device CPU:0")."""
    if distribution is None:
        return config
    replicas = distribution.num_replicas_in_sync if hasattr(distribution, "num_replicas_in_sync") else len(
        distribution.device_mesh.devices.flatten())
    batch_size = config["train"]["batch_size"]
    if batch_size % replicas:
        raise ValueError(f"train.batch_size={batch_size} does not split over {replicas} devices; use a multiple of {replicas}")
    if keras.backend.backend() != "tensorflow":
        return config
    config = copy.deepcopy(config)
    config["train"]["jit_compile"] = False
    return config
