"""Download cache, checksums, offline messages and named-model conversion, on local file:// sources."""

import hashlib
import json

import numpy as np
import pytest
from keras import ops

from image_captioning import ClipCap, hub
from image_captioning.clipcap import CONFIG_FILE, WEIGHTS_FILE, convert_named_model
from image_captioning.hub import DownloadError, cached_download
from unitest.references.official_files import write_official_files


def test_file_url_is_downloaded_once_and_verified(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"official bytes")
    digest = hashlib.sha256(b"official bytes").hexdigest()
    target = cached_download(source.as_uri(), tmp_path / "cache", "weights.bin", digest, progress=False)
    assert target.read_bytes() == b"official bytes"
    source.unlink()  # a second call must be served from the cache
    assert cached_download(source.as_uri(), tmp_path / "cache", "weights.bin", digest, progress=False) == target


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"tampered")
    with pytest.raises(DownloadError, match="expected 00ff"):
        cached_download(source.as_uri(), tmp_path / "cache", "weights.bin", "00ff", progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_download_says_where_to_put_the_file(tmp_path):
    with pytest.raises(DownloadError, match=r"put it at .*cache.*coco_weights\.pt"):
        cached_download("http://127.0.0.1:9/coco_weights.pt", tmp_path / "cache", "coco_weights.pt", progress=False)


def test_every_registered_name_has_complete_hparams():
    for name in hub.PRETRAINED_MODELS:
        hparams = hub.load_hparams(name)
        assert hparams["name"] == name
        if "reproduce" in hparams:  # trained and shipped by this project
            assert hparams["reproduce"].startswith("image-captioning train")
            continue
        own_files = ("checkpoint",) if hparams.get("format") == hub.CLIP_GPT_CAPTIONING else ("clipcap_checkpoint", "clip_checkpoint")
        for entry in own_files:
            assert hparams[entry]["url"].startswith("https://") and hparams[entry]["filename"]
    assert hub.load_hparams("clipcap-coco-transformer")["normalize_prefix"] is True
    with pytest.raises(KeyError, match="Known names"):
        hub.load_hparams("clipcap-unknown")


def file_url_hparams(tmp_path, mapper_type):
    tmp_path.mkdir(parents=True, exist_ok=True)
    clipcap_path, clip_path, _, _ = write_official_files(tmp_path, mapper_type, tiny=True)
    entry = lambda path: {"filename": path.name, "url": path.as_uri(), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {
        "name": f"tiny-{mapper_type}",
        "clipcap_checkpoint": entry(clipcap_path),
        "clip_checkpoint": entry(clip_path),
        "normalize_prefix": mapper_type == "transformer",
        "generation": {"strategy": "greedy", "max_length": 20, "stop_tokens": ["."]},
    }


def test_named_model_is_downloaded_converted_and_cached(tmp_path):
    hparams = file_url_hparams(tmp_path / "official", "transformer")
    cache = tmp_path / "pretrained_models"
    captioner = convert_named_model(hparams, cache)
    assert (cache / "official" / hparams["clipcap_checkpoint"]["filename"]).is_file()
    assert (cache / "tiny-transformer" / CONFIG_FILE).is_file()
    reloaded = ClipCap.from_pretrained(cache / "tiny-transformer")
    assert reloaded.generation["strategy"] == "greedy" and reloaded.model.normalize_prefix
    embedding = np.random.default_rng(0).standard_normal((1, 48)).astype("float32")
    np.testing.assert_array_equal(
        ops.convert_to_numpy(reloaded.model.embed_prefix(embedding)), ops.convert_to_numpy(captioner.model.embed_prefix(embedding))
    )


def test_save_and_from_pretrained_are_exact_inverses(tmp_path):
    hparams = file_url_hparams(tmp_path / "official", "mlp")
    first = convert_named_model(hparams, tmp_path / "cache")
    first.save_pretrained(tmp_path / "a")
    ClipCap.from_pretrained(tmp_path / "a").save_pretrained(tmp_path / "b")
    assert json.loads((tmp_path / "a" / CONFIG_FILE).read_text()) == json.loads((tmp_path / "b" / CONFIG_FILE).read_text())
    for name in ("vocab.json", "merges.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    a, b = ClipCap.from_pretrained(tmp_path / "a").model, ClipCap.from_pretrained(tmp_path / "b").model
    assert [tuple(v.shape) for v in a.weights] == [tuple(v.shape) for v in b.weights]
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(va), ops.convert_to_numpy(vb))
    assert (tmp_path / "a" / WEIGHTS_FILE).is_file()


def test_unknown_name_or_folder_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a model folder"):
        ClipCap.from_pretrained(tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError, match="Reproduce it with: image-captioning train-clip --preset shapes-clip .* image-captioning train --preset shapes-demo"):
        convert_named_model(hub.load_hparams("shapes-demo"), tmp_path)


def test_shipped_model_loads_whatever_the_cache_folder(tmp_path):
    assert hub.local_model_dir("shapes-demo", tmp_path) == hub.SHIPPED_MODELS_DIR / "shapes-demo"
    assert ClipCap.from_pretrained("shapes-demo", cache_dir=tmp_path).resolution == 96
    assert list(tmp_path.iterdir()) == []  # a shipped model is read in place, never copied into the cache


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(hub.paths.CACHE_ENV, raising=False)
    assert hub.RUNNING_FROM_SOURCE and hub.cache_dir() == hub.PROJECT_ROOT / "pretrained_models"
    monkeypatch.setenv(hub.paths.CACHE_ENV, str(tmp_path / "models"))
    assert hub.cache_dir() == tmp_path / "models"
    assert hub.local_model_dir("clipcap-coco", hub.cache_dir()) is None
