"""What the command line prints: captions and the user's warnings, no backend log lines unless --verbose."""

import os
import subprocess
import sys

import pytest

from custom_architectures.clipcap import build_clipcap_model
from image_captioning import ClipCap
from unitest.test_predict_cli import TINY_MODEL

BACKEND_NOISE = ("I0000", "W0000", "E0000", "absl::InitializeLog", "cuInit", "cuda", "oneDNN", "XLA", "TF_CPP")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-model")
    ClipCap(build_clipcap_model(TINY_MODEL), {"strategy": "greedy", "max_length": 4}).save_pretrained(directory)
    return directory


def run_cli(*args):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("TF_CPP", "ABSL"))}
    return subprocess.run([sys.executable, "-m", "image_captioning.cli", *args], capture_output=True, text=True,
                          env=environment, timeout=600)


def test_caption_shows_no_backend_logs_but_keeps_user_warnings(model_dir, shared_data, tmp_path):
    data = (shared_data / "videos" / "vtest.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    inputs = [str(shared_data / "images" / "apple.jpg"), str(tmp_path / "cut.avi")]

    quiet = run_cli("caption", *inputs, "--model", str(model_dir), "--no-progress", "--frames", "2")
    assert quiet.returncode == 0, quiet.stderr
    assert "2 captioned, 0 failed" in quiet.stdout
    assert "warning:" in quiet.stdout and "truncated" in quiet.stdout
    noise = [line for line in (quiet.stdout + quiet.stderr).splitlines() if any(word in line for word in BACKEND_NOISE)]
    assert noise == []

    verbose = run_cli("caption", inputs[0], "--model", str(model_dir), "--no-progress", "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert any(word in verbose.stderr for word in BACKEND_NOISE), "--verbose should let TensorFlow's own lines through"
