#!/usr/bin/env bash
# Downloads, into .whl/ at the repository root, the wheels that run_generation_bench.sh installs on a
# GPU machine with no package index (CPython 3.12, x86-64 Linux): Keras and keras-hub without their
# dependencies, plus the dependencies such a machine may lack. Run it where pip reaches PyPI:
#
#   bash benchmarks/gpu/fetch_wheels.sh      # then carry .whl/ to the GPU machine with the checkout
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl  # git-ignored
# keras-hub's tensorflow-text is left out: it is only needed for TensorFlow tokenizers.
PACKAGES=(keras==3.15.1 keras-hub==0.32.0 namex optree kagglehub kagglesdk clip-anytorch ftfy wcwidth)
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${PACKAGES[@]}"
ls -la .whl
