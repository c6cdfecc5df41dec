"""Data-parallel training on 2 logical CPU devices equals a single-device run.

Each backend runs in a subprocess, because the devices must be set before the backend starts: TensorFlow
splits its CPU with `tf.config.set_logical_device_configuration`, JAX gets
`XLA_FLAGS=--xla_force_host_platform_device_count=2`. Tolerances: 1e-5 relative on losses and 1e-5 absolute
on weights after the same steps (float32 sums taken in another order differ by ~1e-7 per step).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STEPS = 6
TOLERANCE = 1e-5


def run_backend(backend, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if backend == "jax":
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    done = subprocess.run([sys.executable, __file__, backend, str(tmp_path)], env=env, capture_output=True, text=True, check=False,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mirrored_tensorflow_steps_equal_one_device(tmp_path):
    report = run_backend("tensorflow", tmp_path)
    assert report["devices"] == 2 and report["replica_tokens"][0] != report["replica_tokens"][1]
    np.testing.assert_allclose(report["fit"]["two"], report["fit"]["one"], rtol=TOLERANCE)
    assert report["fit"]["weights_max_diff"] < TOLERANCE
    # train() itself: Keras's TF trainer opens the batch iterator twice under a strategy, and batch_stream
    # reshuffles per iterator, so the mirrored run sees another (seeded) batch order: close, not equal.
    np.testing.assert_allclose(report["train"]["two"], report["train"]["one"], rtol=0.05)


def test_jax_data_parallel_train_equals_one_device(tmp_path):
    report = run_backend("jax", tmp_path)
    assert report["devices"] == 2
    np.testing.assert_allclose(report["train"]["two"], report["train"]["one"], rtol=TOLERANCE)
    assert report["train"]["weights_max_diff"] < TOLERANCE


# ----------------------------------------------------------------------------- the subprocess side


def _tiny_config():
    from image_captioning.training.train_config import TINY_OVERRIDES, apply_overrides, load_training_preset

    return apply_overrides(load_training_preset("shapes-demo"), {
        **TINY_OVERRIDES, "data.num_images": 16, "train.epochs": 2, "train.train_image_encoder": False})


def _weights(model):
    import keras

    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _max_diff(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _fit_steps(config, scoped):
    """STEPS AdamW steps over fixed batches (the same on every pass) whose replica halves hold unequal token counts."""
    import contextlib

    import keras
    import tensorflow as tf

    from custom_architectures.clipcap import build_clipcap_model
    from image_captioning.training.caption_loss import CaptionLoss
    from image_captioning.training.distribution import distribution_scope
    from image_captioning.training.warmup_schedule import WarmupLinearDecay

    rng = np.random.default_rng(0)
    rows, length = 16, 10
    lengths = np.where(np.arange(rows) % 8 < 4, length, 2)  # first half of each batch long, second half short
    mask = (np.arange(length)[None] < lengths[:, None]).astype("int32")
    token_ids = rng.integers(0, 5000, (rows, length)).astype("int32") * mask
    labels = np.where(mask == 1, token_ids, -1).astype("int32")
    inputs = {"clip_embedding": rng.standard_normal((rows, 128)).astype("float32"), "token_ids": token_ids,
              "padding_mask": mask}
    batches = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(8, drop_remainder=True).repeat()
    keras.utils.set_random_seed(0)
    with distribution_scope() if scoped else contextlib.nullcontext():
        model = build_clipcap_model(config["model"])
        model.image_encoder.trainable = False
        model.compile(optimizer=keras.optimizers.AdamW(WarmupLinearDecay(1e-3, 2, STEPS)),
                      loss=CaptionLoss(model.prefix_length), jit_compile=False)
        history = model.fit(batches, epochs=STEPS, steps_per_epoch=1, verbose=0)
    return history.history["loss"], _weights(model), [int(mask[:4].sum()), int(mask[4:8].sum())]


def _train_runs(config, out):
    from image_captioning.training.trainer import train, train_on_current_devices

    runs = {}
    for name, run in (("two", train), ("one", train_on_current_devices)):
        captioner = run(config, Path(out) / name, verbose=0)
        state = json.loads((Path(out) / name / "checkpoint" / "state.json").read_text())
        runs[name] = (state["history"]["loss"], _weights(captioner.model))
    return {"two": runs["two"][0], "one": runs["one"][0], "weights_max_diff": _max_diff(runs["two"][1], runs["one"][1])}


def _main(backend, out):
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from image_captioning.training.distribution import local_devices

    config = _tiny_config()
    report = {"devices": len(local_devices()), "train": _train_runs(config, out)}
    if backend == "tensorflow":
        two, two_weights, tokens = _fit_steps(config, scoped=True)
        one, one_weights, _ = _fit_steps(config, scoped=False)
        report["fit"] = {"two": two, "one": one, "weights_max_diff": _max_diff(two_weights, one_weights)}
        report["replica_tokens"] = tokens
    print(json.dumps(report))


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
