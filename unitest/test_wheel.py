"""The built wheel works outside the checkout: presets, the shipped model, a user cache and the caption command."""

import json
import subprocess
import zipfile

import pytest

from image_captioning import hub
from unitest.wheel_venv import build_editable_wheel, build_wheel, clean_env, copy_repository, fresh_venv

# What the checkout says, so the installed copies are compared with the source of truth, not a remembered number.
SHAPES_DEMO_EPOCHS = json.loads((hub.PROJECT_ROOT / "hparams" / "shapes-demo.json").read_text())["train"]["epochs"]
SHAPES_DEMO_RESOLUTION = json.loads((hub.PROJECT_ROOT / "pretrained_models" / "shapes-demo" / "config.json").read_text())[
    "model"]["config"]["image_encoder"]["config"]["input_resolution"]

PROBE = """
import json, sys
import custom_architectures, image_captioning
from image_captioning import hub, load
from image_captioning.training.train_config import load_training_preset
print(json.dumps({
    "files": [image_captioning.__file__, custom_architectures.__file__, str(hub.HPARAMS_DIR)],
    "from_source": hub.RUNNING_FROM_SOURCE,
    "cache": str(hub.cache_dir()),
    "coco_clip": hub.load_hparams("clipcap-coco")["clip_checkpoint"]["filename"],
    "training_epochs": load_training_preset("shapes-demo")["train"]["epochs"],
    "demo": [load("shapes-demo").resolution, str(hub.local_model_dir("shapes-demo", hub.cache_dir()))],
}))
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    source = copy_repository(root / "source")
    return {"root": root, "source": source, "wheel": build_wheel(source, root / "dist")}


@pytest.fixture(scope="module")
def wheel_venv(build):
    return fresh_venv(build["root"] / "venv", build["wheel"])


def run_in(python, script, home, cwd):
    done = subprocess.run([str(python), "-c", script], cwd=cwd, env=clean_env(home), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_wheel_carries_every_preset_and_only_the_shipped_models(build):
    names = set(zipfile.ZipFile(build["wheel"]).namelist())
    presets = {n.rsplit("/", 1)[1] for n in names if n.startswith("image_captioning/hub/presets/")}
    assert set(hub.PRETRAINED_MODELS.values()) | {"train-coco-mlp.json", "train-coco-transformer.json"} <= presets
    shipped = {n for n in names if n.startswith("image_captioning/hub/shipped_models/")}
    for model in ("shapes-demo", "shapes-video-demo"):
        files = ("config.json", "model.weights.h5", "vocab.json", "merges.txt")
        assert {f"image_captioning/hub/shipped_models/{model}/{f}" for f in files} <= shipped
    assert {n.split("/")[3] for n in shipped} == {"shapes-demo", "shapes-video-demo"}


def test_installed_wheel_loads_presets_and_demo_from_package_data(wheel_venv, build, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    probe = run_in(wheel_venv, PROBE, tmp_path / "home", tmp_path / "elsewhere")
    venv = build["root"] / "venv"
    assert all(path.startswith(str(venv)) for path in probe["files"]), probe["files"]
    assert not probe["from_source"] and probe["cache"] == str(tmp_path / "home" / ".cache" / "image_captioning")
    assert probe["coco_clip"] == "ViT-B-32.pt" and probe["training_epochs"] == SHAPES_DEMO_EPOCHS
    assert probe["demo"][0] == SHAPES_DEMO_RESOLUTION and probe["demo"][1].startswith(str(venv))


def test_installed_caption_command_runs_the_readme_job(wheel_venv, shared_data, tmp_path):
    from image_captioning import ClipCap

    samples = hub.PROJECT_ROOT / "samples" / "shapes"
    images = sorted((samples / "images").glob("*.png"))
    video = samples / "videos" / "video_00000.mp4"
    executable, out = str(wheel_venv.parent / "image-captioning"), str(tmp_path / "out")
    commands = [  # the README's main job: images with shapes-demo, videos with shapes-video-demo
        [executable, "caption", str(samples / "images"), str(shared_data / "images" / "fruits.jpg"), "--model", "shapes-demo",
         "--out", out, "--no-progress"],
        [executable, "caption", str(video), "--model", "shapes-video-demo", "--out", out, "--scenes", "--no-progress"],
    ]
    (tmp_path / "elsewhere").mkdir()
    for command in commands:
        done = subprocess.run(command, cwd=tmp_path / "elsewhere", env=clean_env(tmp_path / "home"), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["source"]: row for row in map(json.loads, (tmp_path / "out" / "captions.jsonl").read_text().splitlines())}
    assert len(rows) == len(images) + 1 and all(row["ok"] for row in rows.values())
    assert "-->" in (tmp_path / "out" / "video_00000.srt").read_text()
    expected = ClipCap.from_pretrained("shapes-demo").predict([str(p) for p in images])
    assert [rows[str(p)]["captions"][0]["text"] for p in images] == [r.caption.text for r in expected]


def test_editable_install_reads_the_checkout_folders(build, tmp_path):
    (tmp_path / "dist").mkdir()
    python = fresh_venv(tmp_path / "venv", build_editable_wheel(build["source"], tmp_path / "dist"))
    (tmp_path / "elsewhere").mkdir()
    probe = run_in(python, PROBE, tmp_path / "home", tmp_path / "elsewhere")
    source = str(build["source"])
    assert probe["from_source"] and all(path.startswith(source) for path in probe["files"]), probe["files"]
    assert probe["cache"] == str(build["source"] / "pretrained_models")
    assert probe["demo"] == [SHAPES_DEMO_RESOLUTION, str(build["source"] / "pretrained_models" / "shapes-demo")]
