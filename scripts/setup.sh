#!/usr/bin/env bash
# Creates .venv and installs the project with its test extras, from the package registries only.
set -euo pipefail
cd "$(dirname "$0")/.."
python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
# First, so that pip takes the CPU build of torch that lies on disk instead of downloading CUDA wheels.
pip install -q torch==2.13.0
pip install -q -e '.[test,beam,serve,export]'
# OpenAI's own CLIP model.py, the parity reference; --no-deps keeps torchvision out (it cannot load beside CPU torch).
pip install -q --no-deps clip-anytorch==2.6.0
