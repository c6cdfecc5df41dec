"""hf:// models and push_to_hub through the real `huggingface_hub` client, against a Hub stand-in on loopback."""

import importlib
from pathlib import Path

import huggingface_hub.constants
import numpy as np
import pytest
from keras import ops

from image_captioning import ClipCap, hub
from image_captioning.hub.hf_hub import MODEL_FILES, parse_hf_uri
from unitest.hub_server import HubServer

SAMPLE_IMAGES = sorted(str(p) for p in (hub.PROJECT_ROOT / "samples" / "shapes" / "images").glob("*.png"))[:2]


@pytest.fixture
def local_model():
    return hub.SHIPPED_MODELS_DIR / "shapes-demo"


@pytest.fixture
def hub_server(monkeypatch, tmp_path):
    """The stand-in, reached by the real client through HF_ENDPOINT, with its cache under a fresh HF_HOME."""
    with HubServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_ETAG_TIMEOUT"):
            monkeypatch.delenv(name, raising=False)
        # huggingface_hub reads these variables when `constants` is imported (other tests may have imported it).
        importlib.reload(huggingface_hub.constants)
        yield server
        monkeypatch.undo()
        importlib.reload(huggingface_hub.constants)


def folder_files(directory):
    return {name: (Path(directory) / name).read_bytes() for name in MODEL_FILES}


def captions(captioner):
    return [r.caption.text for r in captioner.predict(SAMPLE_IMAGES, strategy="greedy")]


def assert_same_weights(a, b):
    assert len(a.model.weights) == len(b.model.weights)
    for va, vb in zip(a.model.weights, b.model.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(va), ops.convert_to_numpy(vb))


def test_hf_model_captions_like_the_local_folder_and_reloads_offline(hub_server, local_model, monkeypatch, tmp_path):
    hub_server.repos.create("owner/demo")
    sha = hub_server.repos.commit("owner/demo", {**folder_files(local_model), "README.md": b"# tiny"})
    captioner = ClipCap.from_pretrained("hf://owner/demo")
    assert captioner.tokenizer_dir.name == sha and captioner.tokenizer_dir.is_relative_to(tmp_path / "hf_home")
    assert not any("README.md" in r["path"] for r in hub_server.requests)  # only the model's files are fetched
    local = ClipCap.from_pretrained(local_model)
    assert_same_weights(captioner, local)
    expected = captions(local)
    assert all(expected) and captions(captioner) == expected

    resolves = [(r["method"], r["path"]) for r in hub_server.requests if "/resolve/" in r["path"]]
    assert resolves[0] == ("HEAD", "/owner/demo/resolve/main/config.json")
    assert {path for _, path in resolves[1:]} >= {f"/owner/demo/resolve/{sha}/{name}" for name in MODEL_FILES[1:]}

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    importlib.reload(huggingface_hub.constants)
    seen = len(hub_server.requests)
    assert_same_weights(ClipCap.from_pretrained("hf://owner/demo"), local)
    assert len(hub_server.requests) == seen  # served from the cache, no request made
    with pytest.raises(FileNotFoundError, match="not in the Hugging Face cache"):
        ClipCap.from_pretrained("hf://owner/never-downloaded")


def test_revision_tag_and_commit_are_honoured(hub_server, local_model, tmp_path):
    hub_server.repos.create("owner/demo")
    first = hub_server.repos.commit("owner/demo", folder_files(local_model))
    hub_server.repos.tag("owner/demo", "v1", first)
    second_model = ClipCap.from_pretrained(local_model)
    second_model.generation["max_length"] = 9
    second_model.save_pretrained(tmp_path / "second")
    second = hub_server.repos.commit("owner/demo", folder_files(tmp_path / "second"))
    assert ClipCap.from_pretrained("hf://owner/demo").generation["max_length"] == 9
    for uri in ("hf://owner/demo@v1", f"hf://owner/demo@{first}"):
        loaded = ClipCap.from_pretrained(uri)
        assert loaded.generation["max_length"] == 24 and loaded.tokenizer_dir.name == first
    assert ClipCap.from_pretrained(f"hf://owner/demo@{second}").generation["max_length"] == 9


def test_missing_repo_revision_or_file_is_explained(hub_server, local_model):
    with pytest.raises(FileNotFoundError, match=r"no model repository owner/absent on http://127\.0\.0\.1"):
        ClipCap.from_pretrained("hf://owner/absent")
    hub_server.repos.create("owner/demo")
    hub_server.repos.commit("owner/demo", {k: v for k, v in folder_files(local_model).items() if k != "model.weights.h5"})
    with pytest.raises(FileNotFoundError, match="has no revision 'v9'"):
        ClipCap.from_pretrained("hf://owner/demo@v9")
    with pytest.raises(FileNotFoundError, match="not a ClipCap model folder: it needs config.json, model.weights.h5"):
        ClipCap.from_pretrained("hf://owner/demo")


def test_hf_uri_parsing():
    assert parse_hf_uri("hf://owner/repo") == ("owner/repo", None)
    assert parse_hf_uri("hf://owner/repo@v1.0") == ("owner/repo", "v1.0")
    for bad in ("hf://repo", "hf://owner/repo/extra", "hf:///repo"):
        with pytest.raises(ValueError, match="expected hf://owner/repo"):
            parse_hf_uri(bad)


def test_push_to_hub_commits_the_saved_folder_and_loads_back(hub_server, local_model, tmp_path):
    captioner = ClipCap.from_pretrained(local_model)
    info = captioner.push_to_hub("me/pushed", token="hf_test_token")
    sha, files = hub_server.repos.resolve("me/pushed", "main")
    assert info.oid == sha and set(files) == set(MODEL_FILES)
    captioner.save_pretrained(tmp_path / "saved")
    assert files == folder_files(tmp_path / "saved")
    posts = [r for r in hub_server.requests if r["method"] == "POST"]
    assert [r["path"].split("/")[-2] for r in posts] == ["repos", "preupload", "commit"]
    assert all(r["authorization"] == "Bearer hf_test_token" for r in posts)

    captioner.generation["max_length"] = 7
    second = captioner.push_to_hub("me/pushed", token="hf_test_token")  # the repository exists: a new commit on main
    assert second.oid != sha and hub_server.repos.resolve("me/pushed", "main")[0] == second.oid
    reloaded = ClipCap.from_pretrained("hf://me/pushed")
    assert reloaded.generation["max_length"] == 7
    assert_same_weights(reloaded, captioner)
    assert captions(reloaded) == captions(captioner)
