#!/usr/bin/env bash
# Generation speed on one GPU: ours (Keras on JAX: CLIP ViT-B/32 + ClipCap MLP + GPT-2 124M,
# float32 and bfloat16) against Hugging Face PyTorch cached `generate`, on the same GPU, in one
# process; batch 1, 32 and 256, 20 tokens, 5 alternating rounds; prints ms per image, captions/s
# and the ratios (min/median/max over rounds).
#
#   bash benchmarks/gpu/run_generation_bench.sh            # from the repository root, on the GPU machine
#   bash benchmarks/gpu/run_generation_bench.sh --rounds 3 # any bench_generation.py option is passed on
#
# Needs python3 with PyTorch (CUDA), JAX (CUDA), transformers and numpy. Keras, keras-hub and the
# small packages they need that such a machine may lack are installed from .whl/ when it is there
# (fetch them beforehand, where pip can reach PyPI, with benchmarks/gpu/fetch_wheels.sh).
# No TensorFlow is needed: KERAS_BACKEND=jax.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export KERAS_BACKEND=jax
# JAX and PyTorch share the GPU in this process: JAX must not take 75 % of its memory up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" -c "import jax, keras, torch; print('jax', jax.__version__, jax.devices(), '| keras', keras.__version__,
'| torch', torch.__version__, torch.cuda.get_device_name(0))"
exec "$PYTHON" benchmarks/bench_generation.py --torch-device cuda --batches 1,32,256 --no-official \
  --threads "$(nproc)" --gemm-size 8192 "$@"
