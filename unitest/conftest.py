"""Shared pytest setup: quiet TensorFlow, fixed seeds, paths to ../shared/data."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests never write to the user's compilation cache; test_compile_cache.py names its own folders.
os.environ.setdefault("IMAGE_CAPTIONING_COMPILE_CACHE", "off")

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} is missing: clone the project beside ../shared"
    return SHARED_DATA


@pytest.fixture(autouse=True)
def fixed_seed():
    import keras

    np.random.seed(0)
    keras.utils.set_random_seed(0)


@pytest.fixture(autouse=True)
def restore_tf_xla_flags():
    """A test that turns the compilation cache on sets TF_XLA_FLAGS in its worker's environment; later
    tests (and the processes they start, such as Beam's SDK workers) must not inherit it."""
    before = os.environ.get("TF_XLA_FLAGS")
    yield
    if before is None:
        os.environ.pop("TF_XLA_FLAGS", None)
    else:
        os.environ["TF_XLA_FLAGS"] = before


@pytest.fixture(scope="module", autouse=True)
def release_memory_after_module():
    """Each xdist worker runs many files in one process, and two workers together once went past 24 GB (the
    OOM killer stopped one). Collecting, dropping Keras' global state and returning freed heap to the OS after
    each file kept one process at 6.5 GiB instead of 8.6 GiB over the three real-size CLIP/GPT-2/ClipCap files."""
    yield
    import ctypes
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
