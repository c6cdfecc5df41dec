"""The decode -> tf.data -> encode -> caption pipeline with stand-in model functions:
`encode_fn` is each image's mean colour after preprocessing and `caption_fn` writes an
embedding out as text, so every caption says exactly which pixels it came from."""

import shutil
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import image_captioning.pipeline.engine as pipeline_module
from image_captioning.media.sources import expand_inputs
from image_captioning.media.images import load_image
from image_captioning.pipeline import CaptioningPipeline, run_pipeline
from image_captioning.pipeline.stats import PipelineStats
from image_captioning.results import Caption, ImageResult, VideoResult
from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.media.video_reader import sample_video

RESOLUTION = 32


def small_preprocess(image):
    return tf.image.resize(tf.cast(image, tf.float32) / 255.0, (RESOLUTION, RESOLUTION), antialias=True)


def mean_colour(images):
    assert images.dtype == np.float32 and images.shape[1:] == (RESOLUTION, RESOLUTION, 3)
    return images.mean(axis=(1, 2))


def describe(embeddings):
    return [
        [Caption(" ".join(f"{v:.5f}" for v in row), float(row.sum()), [len(row)]), Caption("runner-up", -1.0, [0])]
        for row in embeddings
    ]


def values(caption):
    return np.array([float(v) for v in caption.text.split()])


def expected_embedding(image_uint8):
    return small_preprocess(image_uint8).numpy().mean(axis=(0, 1))


def live_threads():
    return {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}


def run(inputs, **options):
    options.setdefault("preprocess", small_preprocess)
    options.setdefault("resolution", RESOLUTION)
    options.setdefault("progress", False)
    return list(run_pipeline(inputs, mean_colour, describe, **options))


@pytest.fixture
def images(shared_data):
    return shared_data / "images"


@pytest.fixture
def videos(shared_data):
    return shared_data / "videos"


@pytest.fixture
def mixed_inputs(tmp_path, images, videos):
    (tmp_path / "notes.jpg").write_text("just text")
    (tmp_path / "empty.png").write_bytes(b"")
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ["horse.png", "orange.jpg", "chelsea.png"]:
        shutil.copy(images / name, folder / name)
    rng = np.random.default_rng(0)
    return [
        images / "apple.jpg",
        videos / "tree.avi",
        folder,
        rng.integers(0, 255, (40, 60, 3), dtype=np.uint8),
        tmp_path / "missing.jpg",
        tmp_path / "notes.jpg",
        Image.open(images / "basketball1.png"),
        str(images / "co*.png"),
        tmp_path / "empty.png",
        rng.integers(0, 255, (2, 20, 20, 3), dtype=np.uint8),
    ]


def check_results(inputs, results, sampling=FrameSampling(), max_short_side=1024):
    items = list(expand_inputs(inputs))
    assert [r.source for r in results] == [i.source for i in items]
    for item, result in zip(items, results):
        if item.kind == "error":
            assert not result.ok and result.error == item.error
        elif item.kind == "video":
            assert isinstance(result, VideoResult) and result.ok
            frames, reader = sample_video(item.path, sampling)
            assert [s.frame_index for s in result.segments] == [f.frame_index for f in frames]
            assert [(s.start, s.end) for s in result.segments] == [(f.start, f.end) for f in frames]
            embeddings = [expected_embedding(f.image) for f in frames]
            for segment, embedding in zip(result.segments, embeddings):
                np.testing.assert_allclose(values(segment.caption), embedding, atol=2e-4)
            np.testing.assert_allclose(values(result.caption), np.mean(embeddings, axis=0), atol=2e-4)
            assert result.duration == pytest.approx(reader.duration) and result.fps == reader.info.fps
        else:
            assert isinstance(result, ImageResult)
            try:
                image = load_image(item, max_short_side=max_short_side)
            except Exception as exc:
                assert not result.ok and result.error == str(exc)
                continue
            assert result.ok, result.error
            assert [c.text for c in result.captions][1:] == ["runner-up"]
            np.testing.assert_allclose(values(result.caption), expected_embedding(image), atol=2e-4)


@pytest.mark.parametrize("batch_size, decode_workers", [(1, 1), (3, 3), (8, 2), (64, 2)])
def test_mixed_inputs_come_back_in_order_with_their_own_captions(mixed_inputs, batch_size, decode_workers):
    before = live_threads()
    results = run(mixed_inputs, batch_size=batch_size, decode_workers=decode_workers)
    check_results(mixed_inputs, results)
    errors = {r.source.rsplit("/", 1)[-1]: r.error for r in results if not r.ok}
    assert set(errors) == {"missing.jpg", "notes.jpg", "empty.png"}
    assert "not a recognised image format" in errors["notes.jpg"]
    assert "file is empty" in errors["empty.png"]
    assert live_threads() == before


def test_default_preprocess_is_clip_preprocess_tf(images):
    from image_captioning.media.clip_preprocessing import clip_preprocess_numpy

    seen = []

    def encode(batch):
        seen.append(batch)
        return batch.mean(axis=(1, 2))

    results = list(run_pipeline([images / "butterfly.jpg"], encode, describe, progress=False))
    assert results[0].ok and seen[0].shape == (1, 224, 224, 3)
    reference = clip_preprocess_numpy(load_image(images / "butterfly.jpg"), 224)
    assert np.abs(seen[0][0] - reference).max() < 0.05


def test_out_of_order_completion_is_reordered(monkeypatch, images):
    real_load = pipeline_module.load_image

    def slow_first(item, **kwargs):
        if item.index % 5 == 0:
            time.sleep(0.15)  # every fifth item decodes slowly, so later ones overtake it
        return real_load(item, **kwargs)

    monkeypatch.setattr(pipeline_module, "load_image", slow_first)
    paths = sorted(images.iterdir())
    stats = PipelineStats()
    results = run(paths, batch_size=4, decode_workers=4, stats=stats)
    assert [r.source for r in results] == [str(p) for p in paths]
    check_results(paths, results)
    assert stats.peaks["reorder_buffer"] > 1


def test_video_sampling_modes_pass_through(videos):
    for sampling in [FrameSampling(mode="interval", interval=5.0), FrameSampling(mode="scenes")]:
        results = run([videos / "tree.avi"], batch_size=4, sampling=sampling)
        check_results([videos / "tree.avi"], results, sampling=sampling)


def test_truncated_video_gives_partial_result_with_warning(tmp_path, videos):
    data = (videos / "vtest.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 4])
    (tmp_path / "cut.mp4").write_bytes((videos / "vtest.mp4").read_bytes()[:100_000])
    cut_avi, cut_mp4 = run([tmp_path / "cut.avi", tmp_path / "cut.mp4"], batch_size=8)
    assert cut_avi.ok and len(cut_avi.segments) == 8 and 15 < cut_avi.duration < 25
    assert any("truncated" in w for w in cut_avi.warnings)
    assert isinstance(cut_mp4, VideoResult) and not cut_mp4.ok
    assert "cut.mp4" in cut_mp4.error and "cannot open the video" in cut_mp4.error


def test_stats_report_busy_time_per_stage(images, videos):
    stats = PipelineStats()
    written = []
    results = run([images, videos / "tree.avi"], batch_size=4, stats=stats, on_result=written.append)
    assert written == results
    assert stats.items == 17 and stats.errors == 0 and stats.frames == 16 + 8
    for name in ("decode", "preprocess", "encode", "generate", "write"):
        assert stats.stages[name].busy_s > 0, name
        assert 0 < stats.fractions()[name] <= 1.0, name
    assert stats.stages["preprocess"].calls == 24
    assert stats.wall_s > 0 and "frames/s" in stats.summary()
    assert set(stats.to_dict()["stages"]) == {"decode", "preprocess", "encode", "generate", "write"}


def test_thousand_inputs_stay_within_the_memory_bounds():
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 255, (6, 6, 3), dtype=np.uint8) for _ in range(1000)]
    stats = PipelineStats()
    delivered = 0
    for result in run_pipeline(
        arrays,
        mean_colour,
        describe,
        preprocess=small_preprocess,
        resolution=RESOLUTION,
        batch_size=16,
        max_items_in_flight=24,
        max_frames_in_flight=40,
        progress=False,
        stats=stats,
    ):
        assert result.source == f"<array #{delivered}>" and result.ok
        delivered += 1
    assert delivered == 1000
    for name, peak in stats.peaks.items():
        assert peak <= stats.limits[name], (name, peak, stats.limits[name])
    assert stats.limits["items_in_flight"] == 24 and stats.limits["frames_in_flight"] == 40
    assert stats.peaks["items_in_flight"] >= 16  # the bound is actually reached, i.e. it is what limits


def test_long_video_frames_stay_within_the_bound(videos):
    stats = PipelineStats()
    sampling = FrameSampling(mode="interval", interval=0.25)  # every one of tree.avi's 68 frames
    (result,) = run([videos / "tree.avi"], batch_size=4, max_frames_in_flight=6, sampling=sampling, stats=stats)
    assert len(result.segments) == 68
    assert stats.peaks["frames_in_flight"] <= 6


@pytest.mark.parametrize("items_in_flight, frames_in_flight", [(1, 1), (1, 100), (100, 1)])
def test_tiny_bounds_with_big_batches_do_not_deadlock(images, videos, items_in_flight, frames_in_flight):
    inputs = [images / "apple.jpg", videos / "tree.avi", images / "horse.png", images / "rocket.png"]
    results = run(
        inputs, batch_size=32, max_items_in_flight=items_in_flight, max_frames_in_flight=frames_in_flight
    )
    check_results(inputs, results)


# -- failures and shutdown ------------------------------------------------------------------


def _failing(kind, stage_calls=2):
    """An exception of `kind` raised on the `stage_calls`-th call of the wrapped function."""
    counter = {"n": 0}

    def wrap(fn):
        def wrapped(*args, **kwargs):
            counter["n"] += 1
            if counter["n"] == stage_calls:
                raise kind("boom")
            return fn(*args, **kwargs)

        return wrapped

    return wrap


# An ordinary exception while decoding one file is a per-item error (see the next test), not a failure.
@pytest.mark.parametrize(
    "stage, kind",
    [(stage, kind) for stage in ["feed", "decode", "encode", "generate", "write"] for kind in [ValueError, KeyboardInterrupt]
     if (stage, kind) != ("decode", ValueError)],
)
def test_a_failing_stage_shuts_everything_down(monkeypatch, images, videos, stage, kind):
    inputs = [images, videos / "tree.avi", images]
    wrap = _failing(kind)
    encode, caption, on_result = mean_colour, describe, None
    if stage == "feed":

        def inputs():
            yield from [images, videos / "tree.avi"]
            raise kind("boom")

        inputs = inputs()
    elif stage == "decode":
        monkeypatch.setattr(pipeline_module, "load_image", wrap(pipeline_module.load_image))
    elif stage == "encode":
        encode = wrap(mean_colour)
    elif stage == "generate":
        caption = wrap(describe)
    else:
        on_result = wrap(lambda result: None)
    before = live_threads()
    delivered = []
    with pytest.raises(kind, match="boom") as info:
        for result in run_pipeline(
            inputs,
            encode,
            caption,
            preprocess=small_preprocess,
            resolution=RESOLUTION,
            batch_size=4,
            max_items_in_flight=8,
            progress=False,
            on_result=on_result,
        ):
            delivered.append(result)
    assert len(delivered) < 2 * 16 + 1
    if stage != "write":
        assert any(f"{stage} stage" in note for note in getattr(info.value, "__notes__", []))
    assert not [t.name for t in threading.enumerate() if t.name.startswith("captioning-")]
    assert live_threads() == before


def test_unexpected_decode_exception_is_a_per_item_error(monkeypatch, images):
    monkeypatch.setattr(pipeline_module, "load_image", _failing(ValueError)(pipeline_module.load_image))
    results = run([images / "apple.jpg", images / "horse.png", images / "rocket.png"], batch_size=2)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error == f"{images / 'horse.png'}: unexpected error while decoding (ValueError: boom); check the file"


def test_consumer_interrupt_and_early_break_shut_down(images):
    before = live_threads()
    results = run_pipeline([images] * 4, mean_colour, describe, preprocess=small_preprocess, resolution=RESOLUTION,
                           batch_size=4, progress=False)
    with pytest.raises(KeyboardInterrupt):
        for n, _ in enumerate(results):
            if n == 3:
                raise KeyboardInterrupt  # as if Ctrl-C arrived while the caller handled a result
    results.close()
    assert live_threads() == before

    results = run_pipeline([images] * 4, mean_colour, describe, preprocess=small_preprocess, resolution=RESOLUTION,
                           batch_size=4, progress=False)
    first = next(results)
    assert first.ok
    results.close()  # what `break` out of a for loop does
    assert live_threads() == before


def test_ctrl_c_while_waiting_for_results_shuts_down(images):
    """SIGINT comes from the pipeline's own progress, never from a clock: the second encode call
    waits until the first result has been delivered, then interrupts the process, so the caller is
    back waiting for results (or handling the first one) when Ctrl-C lands."""
    import os
    import signal

    first_delivered = threading.Event()
    encode_calls = []

    def encode_then_interrupt(batch):
        encode_calls.append(len(batch))
        if len(encode_calls) == 2 and first_delivered.wait(timeout=120):
            os.kill(os.getpid(), signal.SIGINT)
        return mean_colour(batch)

    before = live_threads()
    delivered = []
    # Ctrl-C as a user's process gets it: another test in this worker (a library under test, or a runner)
    # may have left a SIGINT handler that does not raise, which once made this test order-dependent.
    previous_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            for result in run_pipeline([images] * 20, encode_then_interrupt, describe, preprocess=small_preprocess,
                                       resolution=RESOLUTION, batch_size=1, progress=False,
                                       on_result=lambda result: first_delivered.set()):
                delivered.append(result)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    assert first_delivered.is_set()
    assert 1 <= len(delivered) < 20 * 16
    assert live_threads() == before


def test_bad_model_outputs_are_reported(images):
    with pytest.raises(ValueError, match=r"encode_fn returned shape \(3,\) for 1 images"):
        list(run_pipeline([images / "apple.jpg"], lambda x: x.mean(axis=(0, 1, 2)), describe,
                          preprocess=small_preprocess, resolution=RESOLUTION, progress=False))
    with pytest.raises(ValueError, match="caption_fn returned 0 caption lists for 1 embeddings"):
        list(run_pipeline([images / "apple.jpg"], mean_colour, lambda e: [], preprocess=small_preprocess,
                          resolution=RESOLUTION, progress=False))


def test_progress_bar_shows_items_and_frames_per_second(images, capsys):
    before = live_threads()
    results = run([images / "apple.jpg", images / "horse.png"], progress=True)
    assert len(results) == 2
    err = capsys.readouterr().err
    assert "captioning" in err and "2/2" in err and "fps=" in err
    assert live_threads() == before


def test_pipeline_object_is_reusable(images):
    pipeline = CaptioningPipeline(mean_colour, describe, preprocess=small_preprocess, resolution=RESOLUTION, batch_size=2)
    first = list(pipeline.run([images / "apple.jpg"], progress=False))
    second = list(pipeline.run([images / "apple.jpg"], progress=False))
    assert first == second
