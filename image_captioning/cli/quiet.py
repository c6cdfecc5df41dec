"""Keeps TensorFlow, XLA and absl start-up chatter off the user's terminal unless `--verbose`."""

import contextlib
import logging
import os
import sys
import warnings


def quiet_backend_logs():
    """Silences backend log lines; call before TensorFlow is first imported.

    TensorFlow's C++ side (absl logging: oneDNN notices, "Could not find cuda drivers", "failed
    call to cuInit") writes straight to file descriptor 2 while the library loads and finds its
    devices, so that stretch runs with descriptor 2 pointed at /dev/null. Our own warnings (e.g. a
    truncated video) are raised later by the captioning code and still show.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in ("tensorflow", "absl", "jax", "h5py", "keras"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("tensorflow", "keras", "tf_keras", "absl", "jax"):
        warnings.filterwarnings("ignore", module=module)
    with _native_stderr_silenced():
        tf = import_tensorflow()
        tf.config.list_physical_devices()  # device discovery, and its CUDA messages, happen here


def import_tensorflow():
    """Imports TensorFlow without the JAX import it makes for TF Lite's JAX converter.

    `tensorflow.lite.python.util` runs `from jax import jit` at TensorFlow's import, and where JAX
    is installed (our test extra) that was 0.5 s of every command's start on a 2-core AMD EPYC. The
    commands never convert JAX functions, so JAX stays unimported here and importable afterwards.
    """
    if "tensorflow" in sys.modules or "jax" in sys.modules:
        import tensorflow as tf

        return tf
    sys.modules["jax"] = None  # makes `import jax` raise ImportError, which TF Lite expects
    try:
        import tensorflow as tf
    finally:
        del sys.modules["jax"]
    return tf


@contextlib.contextmanager
def _native_stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
