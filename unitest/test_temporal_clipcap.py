"""The temporal ClipCap: its mapper (shapes, padding frames change nothing, frame order matters),
save/load, clips in the captioning pipeline (per shot and whole video), and a tiny video training
run through predict (SRT/JSON) and evaluate (motion and shot-count accuracy)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from custom_architectures.clipcap import ClipCapTemporalMapper, build_clipcap_model
from image_captioning.clipcap import ClipCap
from image_captioning.datasets import read_dataset
from image_captioning.evaluation.evaluate_model import evaluate_model
from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.pipeline import run_pipeline
from image_captioning.pipeline.clips import pack_clip
from image_captioning.results import Caption
from image_captioning.synthetic import render_video_frames, sample_video_scene, write_video
from image_captioning.training import train
from image_captioning.training.train_config import apply_overrides, load_training_preset

RNG = np.random.default_rng(0)
MAPPER = {"input_dim": 6, "hidden_dim": 8, "prefix_length": 3, "max_frames": 5, "num_layers": 2, "num_heads": 2}
TINY_ENCODER = {"type": "resnet", "stackwise_num_blocks": [1, 1, 1, 1], "stem_filters": 4, "num_heads": 2,
                "output_dim": 16, "input_resolution": 32}
TINY_DECODER = {"vocabulary_size": 50257, "num_layers": 1, "num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32,
                "max_sequence_length": 48, "dropout": 0.0}


def floats(*shape):
    return RNG.standard_normal(shape).astype("float32")


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_mapper_maps_clips_and_single_frames_to_a_prefix():
    mapper = ClipCapTemporalMapper(**MAPPER)
    assert numpy(mapper(floats(2, 4, 6))).shape == (2, 3, 8)
    frames = floats(2, 6)
    np.testing.assert_allclose(numpy(mapper(frames)), numpy(mapper(frames[:, None])), atol=1e-6)  # an image: a 1-frame clip
    with pytest.raises(ValueError, match="max_frames=5"):
        mapper(floats(1, 6, 6))


def test_padding_frames_change_nothing():
    mapper = ClipCapTemporalMapper(**MAPPER)
    clips = floats(2, 3, 6)
    expected = numpy(mapper(clips))
    for filler in (floats(2, 2, 6), np.zeros((2, 2, 6), "float32"), np.full((2, 2, 6), np.nan, "float32")):
        padded = np.concatenate([clips, filler], axis=1)
        mask = np.array([[1, 1, 1, 0, 0]] * 2, "float32")
        np.testing.assert_allclose(numpy(mapper(padded, mask)), expected, atol=1e-5)
    # Through the model too, whose L2 normalisation must keep all-zero padding frames finite.
    model = build_clipcap_model({"image_encoder": None, "mapper": {"type": "temporal", **MAPPER},
                                 "decoder": {**TINY_DECODER, "vocabulary_size": 20, "hidden_dim": 8}, "normalize_prefix": True})
    short = numpy(model.embed_prefix(clips, np.ones((2, 3), "float32")))
    padded = numpy(model.embed_prefix(np.concatenate([clips, np.zeros((2, 2, 6), "float32")], axis=1),
                                      np.array([[1, 1, 1, 0, 0]] * 2, "float32")))
    np.testing.assert_allclose(padded, short, atol=1e-5)


def test_frame_order_changes_the_prefix():
    """What the mean of the frames cannot tell apart: the same frames forwards and backwards."""
    mapper = ClipCapTemporalMapper(**MAPPER)
    clips = floats(1, 4, 6)
    assert np.abs(numpy(mapper(clips)) - numpy(mapper(clips[:, ::-1]))).max() > 1e-3


def test_temporal_model_saves_and_loads(tmp_path):
    model = build_clipcap_model({"image_encoder": TINY_ENCODER, "mapper": {"type": "temporal", **MAPPER, "input_dim": 16, "hidden_dim": 16},
                                 "decoder": TINY_DECODER, "normalize_prefix": True})
    captioner = ClipCap(model, {"strategy": "greedy", "max_length": 5})
    loaded = ClipCap.from_pretrained(captioner.save_pretrained(tmp_path / "model"))
    assert type(loaded.model.mapper) is ClipCapTemporalMapper and loaded.model.max_frames == 5
    assert json.loads((tmp_path / "model" / "config.json").read_text())["model"]["config"]["mapper"]["config"]["max_frames"] == 5
    inputs = {"clip_embedding": floats(2, 4, 16), "frame_mask": np.array([[1, 1, 1, 1], [1, 1, 0, 0]], "float32"),
              "token_ids": np.array([[64, 2266, 9197], [64, 4171, 3491]])}
    np.testing.assert_array_equal(numpy(loaded.model(inputs)), numpy(model(inputs)))
    clips, mask = inputs["clip_embedding"], inputs["frame_mask"]
    assert [c[0].token_ids for c in loaded.caption_embeddings(clips, mask)] == [
        c[0].token_ids for c in captioner.caption_embeddings(clips, mask)]


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut")
    scene = sample_video_scene(np.random.default_rng(3), with_cut=True)
    write_video(render_video_frames(scene, 64), folder / "cut.mp4", scene.fps)
    Image.fromarray(np.full((40, 40, 3), 200, np.uint8)).save(folder / "grey.png")
    return folder, scene


def record_clips(calls):
    """A caption_fn that records each clip and names it by call and row."""

    def caption(clips, frame_mask):
        calls.append((clips, frame_mask))
        return [[Caption(f"{len(calls) - 1}:{row}", 0.0, [])] for row in range(len(clips))]

    return caption


def clip_of(calls, caption):
    call, row = map(int, caption.text.split(":"))
    clips, mask = calls[call]
    return clips[row][mask[row] > 0]


def mean_colour(images):
    return images.mean(axis=(1, 2))


def small(image):
    return tf.image.resize(tf.cast(image, tf.float32) / 255.0, (16, 16))


def test_pipeline_captions_each_shot_and_the_whole_video_from_their_frames(cut_video):
    folder, scene = cut_video
    calls = []
    results = list(run_pipeline([folder / "grey.png", folder / "cut.mp4"], mean_colour, record_clips(calls),
                                preprocess=small, resolution=16, batch_size=4, progress=False, clip_frames=4,
                                sampling=FrameSampling(mode="scenes", frames_per_shot=4, scene_analysis_fps=10.0)))
    image, video = results
    assert clip_of(calls, image.caption).shape == (1, 3)  # an image is a 1-frame clip
    cut_time = scene.cut_frames[0] / scene.fps
    assert len(video.segments) == 2
    assert video.segments[0].start == 0.0 and video.segments[1].start == pytest.approx(cut_time, abs=0.11)
    shots = [clip_of(calls, segment.caption) for segment in video.segments]
    assert [len(shot) for shot in shots] == [4, 4]
    # The shots differ in background, so each shot's frames are its own; the whole video keeps 4 of
    # the 8 frames, in time order, 2 from each shot.
    whole = clip_of(calls, video.caption)
    frames = np.concatenate(shots)
    positions = [int(np.argmin(np.abs(frames - frame).sum(axis=1))) for frame in whole]
    assert len(whole) == 4 and positions == sorted(positions) and np.allclose(frames[positions], whole)
    assert positions[0] < 4 <= positions[-1]


def test_pipeline_captions_uniform_frames_alone_and_the_video_as_one_clip(cut_video):
    folder, _ = cut_video
    calls = []
    [video] = run_pipeline([folder / "cut.mp4"], mean_colour, record_clips(calls), preprocess=small, resolution=16,
                           progress=False, clip_frames=4, sampling=FrameSampling(num_frames=6))
    assert [len(clip_of(calls, segment.caption)) for segment in video.segments] == [1] * 6
    whole = clip_of(calls, video.caption)
    np.testing.assert_allclose(whole, np.stack([clip_of(calls, video.segments[i].caption)[0] for i in (0, 2, 3, 5)]))


def test_pack_clip_thins_evenly_and_pads():
    clip, mask = pack_clip(np.arange(8)[:, None] * np.ones((1, 2)), clip_frames=4)
    assert clip[:, 0].tolist() == [1, 3, 5, 7] and mask.tolist() == [1, 1, 1, 1]
    clip, mask = pack_clip(np.ones((2, 2)), clip_frames=4)
    assert mask.tolist() == [1, 1, 0, 0] and not clip[2:].any()


@pytest.fixture(scope="module")
def tiny_video_run(tmp_path_factory):
    """A tiny temporal ClipCap trained on 24 synthetic videos, starting from a saved image ClipCap's encoder."""
    root = tmp_path_factory.mktemp("video_run")
    image_model = build_clipcap_model({"image_encoder": TINY_ENCODER, "mapper": {"type": "mlp", "prefix_length": 2},
                                       "decoder": TINY_DECODER})
    ClipCap(image_model).save_pretrained(root / "image-model")
    config = apply_overrides(load_training_preset("shapes-video-demo"), {
        "data.num_videos": 24, "data.image_size": 32, "train.init_image_encoder": str(root / "image-model"),
        "model.mapper.num_layers": 1, "model.mapper.num_heads": 2, "model.mapper.intermediate_dim": 16,
        "model.mapper.max_frames": 4, "model.decoder": TINY_DECODER, "train.epochs": 2, "train.batch_size": 4,
        "train.warmup_steps": 2, "train.video_frames": 4, "train.jit_compile": False,
        "generation.strategy": "greedy", "generation.max_length": 6,
    })
    captioner = train(config, root / "run", verbose=0)
    return root, captioner, image_model


def test_tiny_video_training_predicts_per_shot_and_whole_video_captions(tiny_video_run, cut_video):
    root, captioner, image_model = tiny_video_run
    run = root / "run"
    cache = np.load(run / "embeddings-train" / "embeddings-00000.npz")["embeddings"]
    assert cache.shape[1:] == (4, 16)  # clips of 4 frame embeddings, not their mean
    loaded = ClipCap.from_pretrained(run / "model")
    assert loaded.model.max_frames == 4
    np.testing.assert_array_equal(loaded.model.image_encoder.get_weights()[0], image_model.image_encoder.get_weights()[0])
    folder, _ = cut_video
    [image, video] = loaded.predict([folder / "grey.png", folder / "cut.mp4"], sampling=FrameSampling(mode="scenes"),
                                    output_dir=root / "out", video_formats=("srt", "json"))
    assert image.ok and video.ok and video.caption.text and len(video.segments) == 2
    written = json.loads((root / "out" / "cut.json").read_text())
    assert written["caption"]["text"] == video.caption.text
    assert [s["caption"]["text"] for s in written["segments"]] == [s.caption.text for s in video.segments]
    assert (root / "out" / "cut.srt").read_text().count(" --> ") == 2


def test_evaluate_reports_motion_and_shot_count_accuracy(tiny_video_run):
    root, _, _ = tiny_video_run
    records = read_dataset(root / "run" / "data" / "captions.csv", "folder_csv", split="train")[:6]
    table = evaluate_model(ClipCap.from_pretrained(root / "run" / "model"), records, root / "eval")
    assert {"motion acc", "shots acc", "Bleu_4"} <= set(table["model"])
