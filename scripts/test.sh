#!/usr/bin/env bash
# The whole suite on TensorFlow (real sizes included), then the backend-agnostic tiny tests on JAX.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export TF_CPP_MIN_LOG_LEVEL=2
# Two workers, one test file each at a time: XLA compiles on one core, so one worker alone leaves the other idle.
# One compute thread per worker (TensorFlow, XLA, PyTorch's OpenMP): two workers with two threads each on two
# cores spin against each other, and a pair of real-size tests took 3m46s instead of 1m52s that way.
export OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
# The real-size checks run in fresh worker processes of their own: memory a worker keeps from earlier files
# (see conftest's release_memory_after_module) must not add up across the whole suite.
python -m pytest -q --durations=10 -n 2 --dist loadfile -m "not real_size" unitest
python -m pytest -q --durations=10 -n 2 --dist loadfile -m real_size unitest
KERAS_BACKEND=jax python -m pytest -q -n 2 --dist loadfile -m "not real_size" unitest/test_clipcap_tiny.py unitest/test_clip_tiny.py unitest/test_gpt2_tiny.py unitest/test_model_configs.py unitest/test_generation.py
