"""Frame sampling on the shared clips (CFR DivX and H.264, VFR Cinepak with a bogus frame
count) and on videos made here: raw MJPEG without a frame count, a three-shot edit,
very short clips, truncated and non-video files."""

import dataclasses

import cv2
import numpy as np
import pytest

from image_captioning.results import ItemError
from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.media.video_reader import VideoInfo, VideoReader, sample_video


@pytest.fixture
def videos(shared_data):
    return shared_data / "videos"


def _read_all(path):
    """Reference decode: every frame (RGB) and its CAP_PROP_POS_MSEC, read one by one."""
    capture = cv2.VideoCapture(str(path))
    frames, times = [], []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    capture.release()
    return frames, times


def _write_video(path, frames_bgr, fps=10.0, fourcc="MJPG"):
    height, width = frames_bgr[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for frame in frames_bgr:
        writer.write(frame)
    writer.release()
    return path


def _check_segments(frames, duration):
    assert frames[0].start == pytest.approx(0.0)
    assert frames[-1].end == pytest.approx(duration)
    for a, b in zip(frames, frames[1:]):
        assert a.end == pytest.approx(b.start)
        assert a.frame_index < b.frame_index
    for f in frames:
        assert f.start - 1e-6 <= f.timestamp <= f.end + 1e-6
        assert f.image.dtype == np.uint8 and f.image.ndim == 3 and f.image.shape[-1] == 3


@pytest.mark.parametrize("name", ["vtest.avi", "vtest.mp4"])
def test_uniform_sampling_on_constant_frame_rate_clips(videos, name):
    frames, reader = sample_video(videos / name)
    assert reader.info == VideoInfo(fps=10.0, frame_count=795, width=768, height=576)
    assert reader.duration == pytest.approx(79.5)
    assert [f.frame_index for f in frames] == [50, 149, 248, 348, 447, 547, 646, 745]
    _check_segments(frames, 79.5)
    for f in frames:
        assert f.timestamp == pytest.approx(f.frame_index / 10.0)
    assert not reader.warnings


def test_sampled_frames_are_the_frames_at_those_indices(videos):
    reference, times = _read_all(videos / "vtest.avi")
    frames, _ = sample_video(videos / "vtest.avi", FrameSampling(num_frames=5))
    for f in frames:
        assert np.array_equal(f.image, reference[f.frame_index])
        assert f.timestamp == pytest.approx(times[f.frame_index])


def test_seeking_gives_the_same_frames_as_reading_through(videos):
    sequential, _ = sample_video(videos / "vtest.mp4", FrameSampling(num_frames=4))
    seeking, _ = sample_video(videos / "vtest.mp4", FrameSampling(num_frames=4, seek_min_gap=5.0))
    assert [f.frame_index for f in seeking] == [f.frame_index for f in sequential] == [99, 298, 497, 696]
    for a, b in zip(sequential, seeking):
        assert a.timestamp == pytest.approx(b.timestamp)
        assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 1.0


def test_variable_frame_rate_with_bogus_frame_count(videos):
    """tree.avi claims 444 frames at 15 fps but holds 68 frames at irregular times."""
    reference, times = _read_all(videos / "tree.avi")
    assert len(reference) == 68
    for sampling in [FrameSampling(), FrameSampling(seek_min_gap=0.5)]:  # seeking is detected as unreliable
        frames, reader = sample_video(videos / "tree.avi", sampling)
        assert reader.info.frame_count == 444 and reader.frames_decoded == 68
        assert reader.duration == pytest.approx(times[-1] + 1 / 15, abs=1e-3)
        assert len(frames) == 8
        _check_segments(frames, reader.duration)
        for f in frames:
            assert f.timestamp == pytest.approx(times[f.frame_index])
            assert np.array_equal(f.image, reference[f.frame_index])
            # The frame chosen is the first one at or after the centre of its slice.
            centre = (f.start + f.end) / 2
            assert f.timestamp >= centre - 1 / 30 and (f.frame_index == 0 or times[f.frame_index - 1] < centre)


def test_missing_frame_count_falls_back_to_reading_through(tmp_path, videos):
    reference, _ = _read_all(videos / "tree.avi")
    # A raw MJPEG stream has no container index: OpenCV reports a nonsense frame count.
    data = b"".join(cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))[1].tobytes() for f in reference[:30])
    (tmp_path / "raw.mjpeg").write_bytes(data)
    frames, reader = sample_video(tmp_path / "raw.mjpeg", FrameSampling(num_frames=6))
    assert reader.info.frame_count == 0
    assert reader.duration == pytest.approx(30 / reader.info.fps)
    assert [f.frame_index for f in frames] == [2, 7, 12, 17, 22, 27]
    _check_segments(frames, reader.duration)


@pytest.mark.parametrize("claimed", [1590, 100, 0])
def test_wrong_container_frame_count_is_corrected(videos, claimed):
    expected, _ = sample_video(videos / "vtest.avi", FrameSampling(num_frames=4))
    reader = VideoReader(videos / "vtest.avi")
    reader.info = dataclasses.replace(reader.info, frame_count=claimed)
    frames = list(reader.sample(FrameSampling(num_frames=4)))
    assert reader.duration == pytest.approx(79.5)
    assert [f.frame_index for f in frames] == [f.frame_index for f in expected]
    _check_segments(frames, 79.5)


def test_interval_sampling(videos):
    frames, reader = sample_video(videos / "vtest.mp4", FrameSampling(mode="interval", interval=10.0))
    assert [f.frame_index for f in frames] == [0, 100, 200, 300, 400, 500, 600, 700]
    assert [f.start for f in frames] == [0, 10, 20, 30, 40, 50, 60, 70]
    _check_segments(frames, 79.5)

    frames, reader = sample_video(videos / "tree.avi", FrameSampling(mode="interval", interval=0.25))
    _, times = _read_all(videos / "tree.avi")
    # Frames are ~0.4-0.7 s apart, sparser than the interval: each frame is taken once.
    assert [f.frame_index for f in frames] == list(range(68))
    _check_segments(frames, reader.duration)


def test_fewer_frames_than_requested(tmp_path, videos):
    reference, _ = _read_all(videos / "tree.avi")
    path = _write_video(tmp_path / "three.avi", [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in reference[:3]])
    frames, reader = sample_video(path, FrameSampling(num_frames=8))
    assert [f.frame_index for f in frames] == [0, 1, 2]
    _check_segments(frames, 0.3)

    path = _write_video(tmp_path / "one.avi", [cv2.cvtColor(reference[0], cv2.COLOR_RGB2BGR)])
    for mode in ("uniform", "interval", "scenes"):
        frames, reader = sample_video(path, FrameSampling(mode=mode))
        assert len(frames) == 1 and frames[0].frame_index == 0
        assert (frames[0].start, frames[0].end) == pytest.approx((0.0, 0.1))


def test_scene_detection_finds_the_cuts_of_an_edit(tmp_path, videos):
    tree, _ = _read_all(videos / "tree.avi")
    street, _ = _read_all(videos / "vtest.avi")
    street = [cv2.resize(f, (320, 240), interpolation=cv2.INTER_AREA) for f in street[:300:10]]
    shots = [tree[:30], street, tree[30:60]]  # 3 s each at 10 fps
    path = _write_video(tmp_path / "edit.avi", [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for shot in shots for f in shot])

    frames, reader = sample_video(path, FrameSampling(mode="scenes"))
    assert len(frames) == 3
    assert [f.start for f in frames] == pytest.approx([0.0, 3.0, 6.0], abs=0.3)
    assert frames[-1].end == pytest.approx(9.0)
    _check_segments(frames, 9.0)
    # One frame per shot, from the middle of the shot.
    for f, lo in zip(frames, (0, 30, 60)):
        assert lo <= f.frame_index < lo + 30
        assert abs(f.timestamp - (f.start + f.end) / 2) <= 0.8

    # A single continuous shot stays one segment.
    frames, reader = sample_video(videos / "vtest.avi", FrameSampling(mode="scenes"))
    assert [(f.start, f.end) for f in frames] == [(0.0, pytest.approx(79.5))]


def test_min_scene_duration_merges_flashes(tmp_path, videos):
    tree, _ = _read_all(videos / "tree.avi")
    flash = [np.full_like(tree[0], 255)] * 3  # 0.3 s white flash
    path = _write_video(tmp_path / "flash.avi", [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in tree[:30] + flash + tree[30:60]])
    frames, _ = sample_video(path, FrameSampling(mode="scenes", min_scene_duration=1.0))
    assert len(frames) == 2  # the flash does not make a shot of its own
    frames, _ = sample_video(path, FrameSampling(mode="scenes", min_scene_duration=0.0))
    assert len(frames) == 3


def test_frames_are_capped_to_max_short_side(videos):
    frames, _ = sample_video(videos / "vtest.avi", FrameSampling(num_frames=2, max_short_side=288))
    assert frames[0].image.shape == (288, 384, 3)


def test_truncated_avi_keeps_decodable_part_and_warns(tmp_path, videos):
    data = (videos / "vtest.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    frames, reader = sample_video(tmp_path / "cut.avi", FrameSampling(num_frames=4))
    assert 30 < reader.duration < 45
    _check_segments(frames, reader.duration)
    assert any("truncated" in w for w in reader.warnings)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p, src: None, "file not found"),
        (lambda p, src: p.write_bytes(b""), r"file is empty \(0 bytes\)"),
        (lambda p, src: p.write_text("not a video at all\n" * 50), "OpenCV cannot open the video"),
        (lambda p, src: p.write_bytes(src[: len(src) // 2]), "OpenCV cannot open the video"),  # no moov atom
    ],
    ids=["missing", "zero-byte", "text-named-mp4", "mp4-cut-in-half"],
)
def test_unreadable_videos_raise_item_errors(tmp_path, videos, make, reason):
    path = tmp_path / "clip.mp4"
    make(path, (videos / "vtest.mp4").read_bytes())
    with pytest.raises(ItemError, match=reason) as info:
        sample_video(path)
    assert str(info.value).startswith(str(path)) and info.value.fix


def test_video_without_decodable_frames(tmp_path, videos):
    # Keep the AVI headers but destroy every frame.
    data = bytearray((videos / "tree.avi").read_bytes())
    movi = data.find(b"movi")
    data[movi + 4 :] = b"\x00" * (len(data) - movi - 4)
    (tmp_path / "blank.avi").write_bytes(bytes(data))
    with pytest.raises(ItemError, match="(no decodable frames|cannot open)"):
        sample_video(tmp_path / "blank.avi")


def test_stop_event_ends_reading_early(videos):
    import threading

    stop = threading.Event()
    stop.set()
    reader = VideoReader(videos / "vtest.mp4", stop_event=stop)
    assert list(reader.sample(FrameSampling(mode="interval", interval=1.0))) == []
