"""End-to-end video captioning speed: our pipeline vs a sequential PyTorch baseline; memory on many inputs.

    python benchmarks/bench_video_pipeline.py              # full run, ~6-9 minutes on 2 CPU cores
    python benchmarks/bench_video_pipeline.py --quick      # smoke run, ~3 minutes
    python benchmarks/bench_video_pipeline.py --many 1000  # peak RSS while captioning 1000 small inputs

Both sides run in this one process with random weights at real sizes: CLIP ViT-B/32, the official
ClipCap MLP mapper (prefix 10) and GPT-2 124M. Official-layout files (a ClipCap `.pt` and an OpenAI
CLIP TorchScript archive) are written once; the PyTorch side uses those modules, our side is
converted from the files with `ClipCap.from_official`. Every caption is exactly 20 greedy tokens
(no stop token), so both sides do equal work per frame.

- ours: `ClipCap.predict` (threaded decode -> tf.data preprocessing -> batched CLIP -> compiled,
  KV-cached, batched greedy decoding), batch 32, one frame per second ("interval" sampling).
  Its compiled functions are traced before timing (their cost is printed separately).
- baseline, in the style of the official scripts: one frame at a time: OpenCV decode, CLIP
  preprocessing (the PIL path, equal to OpenAI's `preprocess`), OpenAI CLIP `encode_image` in
  PyTorch, the official `generate2` in PyTorch (batch 1, no key/value cache), on the same frames
  (the frame indices our run sampled). The model part of the baseline costs ~1.7 s per frame, so it
  runs on a subset of the frames (`--baseline-frames`, spread over the videos) and the whole run's
  time is estimated as: measured decode pass over every video + frames x mean model time per frame.

Videos: ../shared/data/videos (vtest.avi, vtest.mp4, tree.avi) and a long video written once into
the cache folder: vtest + tree resized to 640x480 at 10 fps, repeated (~4.3 minutes).

`--many N` captions N small inputs (copies of the shared photos resized small, plus a few short
videos, made once in the cache folder) with a tiny random model and reports the process's peak RSS
(`resource.getrusage().ru_maxrss`) as results come out: the pipeline's memory is bounded, so the
peak stops growing once the first batches are through.
"""

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from image_captioning import ClipCap  # noqa: E402
from image_captioning.generation.generator import DEFAULT_BUCKETS  # noqa: E402
from image_captioning.pipeline.stats import PipelineStats  # noqa: E402
from image_captioning.media.clip_preprocessing import clip_preprocess_numpy  # noqa: E402
from image_captioning.results import VideoResult  # noqa: E402
from image_captioning.media.frame_sampling import FrameSampling  # noqa: E402
from unitest.references.official_decoding import official_generate2  # noqa: E402
from unitest.references.official_files import write_official_files  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
VIDEOS = SHARED / "videos"
IMAGES = SHARED / "images"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "image_captioning_bench"
TOKENS = 20
BATCH = 32
GENERATION = dict(strategy="greedy", max_length=TOKENS, stop_tokens=())
LONG_SIZE = (640, 480)
LONG_FPS = 10.0


# -- inputs ---------------------------------------------------------------------------------


def _frames(path):
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def _frame_count(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def _write_video(path, frames, fps, size):
    """BGR frames -> `path` (MPEG-4 Part 2 in .mp4, Motion-JPEG in .avi), atomically; returns the frame count."""
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    writer = cv2.VideoWriter(str(partial), fourcc, fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path.suffix} videos here")
    count = 0
    try:
        for frame in frames:
            writer.write(frame)
            count += 1
    finally:
        writer.release()
    partial.replace(path)
    return count


def long_video(cache_dir, repeats):
    """vtest.avi + tree.avi resized to 640x480 at 10 fps, `repeats` times, written once into `cache_dir`."""
    path = Path(cache_dir) / f"long_vtest_tree_{LONG_SIZE[0]}x{LONG_SIZE[1]}_x{repeats}.mp4"
    expected = repeats * sum(_frame_count(VIDEOS / name) for name in ("vtest.avi", "tree.avi"))
    if path.is_file() and _frame_count(path) == expected:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)

    def frames():
        for _ in range(repeats):
            for name in ("vtest.avi", "tree.avi"):
                for frame in _frames(VIDEOS / name):
                    yield cv2.resize(frame, LONG_SIZE, interpolation=cv2.INTER_AREA)

    print(f"writing {path} ({expected} frames) ...", flush=True)
    _write_video(path, frames(), LONG_FPS, LONG_SIZE)
    return path


def many_inputs(cache_dir, count, videos=5):
    """`count` small inputs: resized copies of the shared photos, with `videos` short clips spread among them."""
    folder = Path(cache_dir) / "many_inputs"
    folder.mkdir(parents=True, exist_ok=True)
    photos = [np.asarray(Image.open(path).convert("RGB")) for path in sorted(IMAGES.iterdir())]
    clips = []
    for i in range(videos):
        path = folder / f"clip_{i}.avi"
        if not path.is_file():
            start = 10 * i
            frames = (cv2.resize(f, (160, 120), interpolation=cv2.INTER_AREA) for j, f in enumerate(_frames(VIDEOS / "tree.avi"))
                      if start <= j < start + 24)
            _write_video(path, frames, 15.0, (160, 120))
        clips.append(path)
    paths = []
    for i in range(count - videos):
        suffix = ".png" if i % 5 == 4 else ".jpg"
        path = folder / f"image_{i:05d}{suffix}"
        if not path.is_file():
            photo = photos[i % len(photos)]
            short = 48 + (i * 37) % 160  # short side 48..207 px
            scale = short / min(photo.shape[:2])
            size = (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
            Image.fromarray(photo).resize(size, Image.BILINEAR).save(path)
        paths.append(path)
    for i, clip in enumerate(clips):
        paths.insert((i * len(paths)) // videos + i, clip)
    return [str(p) for p in paths]


# -- the two sides ---------------------------------------------------------------------------


def build_models(tiny, directory):
    """Official-layout random files -> (PyTorch ClipCap, PyTorch CLIP, our converted ClipCap)."""
    started = time.perf_counter()
    clipcap_pt, clip_pt, torch_clipcap, torch_clip = write_official_files(Path(directory), "mlp", tiny=tiny)
    captioner = ClipCap.from_official(clipcap_pt, clip_pt)
    print(f"models built and converted in {time.perf_counter() - started:.1f} s", flush=True)
    return torch_clipcap.eval(), torch_clip.eval(), captioner


def warm_up(captioner):
    """Traces and compiles every batch bucket the pipeline may use (CLIP and greedy decoding)."""
    started = time.perf_counter()
    resolution = captioner.resolution
    clip_dim = captioner.model.mapper.input_dim
    for bucket in DEFAULT_BUCKETS:
        captioner.encode_images(np.zeros((bucket, resolution, resolution, 3), np.float32))
        captioner.caption_embeddings(np.zeros((bucket, clip_dim), np.float32), **GENERATION)
    return time.perf_counter() - started


class Baseline:
    """One frame at a time, as the official scripts do: decode, preprocess, encode_image, generate2."""

    def __init__(self, torch_clipcap, torch_clip, normalize_prefix):
        self.clipcap = torch_clipcap
        self.clip = torch_clip
        self.normalize_prefix = normalize_prefix
        self.resolution = torch_clip.visual.input_resolution
        self.times = {"preprocess": [], "encode": [], "generate": []}

    @torch.no_grad()
    def caption(self, rgb):
        started = time.perf_counter()
        image = torch.from_numpy(clip_preprocess_numpy(rgb, self.resolution).transpose(2, 0, 1).copy())[None]
        encoded = time.perf_counter()
        embedding = self.clip.encode_image(image).float()
        if self.normalize_prefix:
            embedding = embedding / embedding.norm(2, -1, keepdim=True)
        generated = time.perf_counter()
        prefix = self.clipcap.prefix_embeddings(embedding)
        tokens = official_generate2(self.clipcap.gpt, prefix, entry_length=TOKENS, stop_token_index=None)
        done = time.perf_counter()
        self.times["preprocess"].append(encoded - started)
        self.times["encode"].append(generated - encoded)
        self.times["generate"].append(done - generated)
        return tokens

    def run(self, wanted, captioned):
        """Reads each video once; decodes the `wanted` frames, captions the `captioned` ones.

        Args:
            wanted: {path: set of frame indices} (every frame our run sampled).
            captioned: {path: set of frame indices} to caption (a subset of `wanted`).
        Returns (decode seconds for the whole pass, {(path, frame index): token ids}).
        """
        decode_s, tokens = 0.0, {}
        for path, indices in wanted.items():
            started = time.perf_counter()
            capture = cv2.VideoCapture(str(path))
            last, index = max(indices), -1
            while index < last and capture.grab():
                index += 1
                if index not in indices:
                    continue
                ok, bgr = capture.retrieve()
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok else None
                if rgb is not None and index in captioned.get(path, ()):
                    decode_s += time.perf_counter() - started
                    tokens[(path, index)] = self.caption(rgb)
                    started = time.perf_counter()
            capture.release()
            decode_s += time.perf_counter() - started
        return decode_s, tokens

    def model_seconds_per_frame(self):
        return sum(statistics.mean(v) for v in self.times.values())


def spread(items, count):
    """`count` items evenly spread over `items` (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / max(1, count - 1))] for i in range(count)]


# -- reports ---------------------------------------------------------------------------------


def print_stats(stats):
    print(f"  pipeline: {stats.summary().splitlines()[0]}")
    fractions = stats.fractions()
    busy = ", ".join(f"{name} {100 * fractions[name]:.0f}%" for name in stats.stages)
    print(f"  busy fractions (of each stage's workers x wall time): {busy}")
    bottleneck = max(fractions, key=fractions.get)
    print(f"  bottleneck stage: {bottleneck}")
    peaks = ", ".join(f"{name} {stats.peaks.get(name, 0)}/{stats.limits[name]}" for name in sorted(stats.limits))
    print(f"  buffer peaks / limits: {peaks}")


def measure(name, paths, captioner, baseline, sampling, baseline_frames):
    print(f"\n== {name}: {', '.join(Path(p).name for p in paths)}", flush=True)
    stats = PipelineStats()
    started = time.perf_counter()
    results = captioner.predict([str(p) for p in paths], sampling=sampling, batch_size=BATCH, stats=stats, **GENERATION)
    wall = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"our pipeline failed on: {[r.error for r in failed]}")
    frames = sum(len(r.segments) for r in results)
    captions = frames + sum(1 for r in results if isinstance(r, VideoResult) and r.caption is not None)
    for result in results:
        print(f"  {Path(result.source).name}: {result.duration:.1f} s, {len(result.segments)} frames sampled")
    ours_fps = frames / wall
    print(f"  ours: {frames} frames, {captions} captions ({frames} frame captions + {len(results)} whole-video) "
          f"in {wall:.2f} s: {ours_fps:.2f} frames/s, {captions / wall:.2f} captions/s")
    print_stats(stats)

    # The same frames for the baseline: every sampled frame is decoded, a spread subset is captioned.
    segments = [(r.source, s) for r in results for s in r.segments]
    wanted = {}
    for source, segment in segments:
        wanted.setdefault(source, set()).add(segment.frame_index)
    subset = spread(segments, baseline_frames)
    captioned = {}
    for source, segment in subset:
        captioned.setdefault(source, set()).add(segment.frame_index)
    timed_before = len(baseline.times["generate"])
    started = time.perf_counter()
    decode_s, tokens = baseline.run(wanted, captioned)
    measured = time.perf_counter() - started
    model_s = baseline.model_seconds_per_frame()
    estimate = decode_s + frames * model_s
    baseline_fps = frames / estimate
    same = sum(tokens.get((source, s.frame_index)) == list(s.caption.token_ids) for source, s in subset)
    print(f"  baseline: captioned {len(subset)} of the {frames} frames one by one in {measured:.1f} s "
          f"(decode pass over every sampled frame {decode_s:.2f} s; model {1e3 * model_s:.0f} ms/frame: "
          + ", ".join(f"{k} {1e3 * statistics.mean(v[timed_before:]):.0f}" for k, v in baseline.times.items()) + " ms)")
    print(f"  baseline estimate for all {frames} frames: {estimate:.1f} s: {baseline_fps:.3f} frames/s "
          f"({baseline_fps:.3f} captions/s, no whole-video captions)")
    print(f"  ours / baseline: {ours_fps / baseline_fps:.1f}x frames/s")
    print(f"  same 20 tokens as the baseline on {same}/{len(subset)} frames (random weights: near-ties and the "
          "tf.data vs PIL resize, within one uint8 level, can flip a token)")
    return {"name": name, "frames": frames, "captions": captions, "wall": wall, "ours_fps": ours_fps,
            "baseline_fps": baseline_fps, "fractions": stats.fractions()}


def gpu_note():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    print("\nGPU note:")
    print(f"  TensorFlow sees {len(gpus)} GPU(s){': ' + ', '.join(g.name for g in gpus) if gpus else ''}; "
          f"torch.cuda.is_available() = {torch.cuda.is_available()} (this torch build: {torch.__version__}).")
    print("  These figures are CPU figures. On a GPU our CLIP and generation batches run on the device while the\n"
          "  decode and tf.data stages stay on the CPU, so the bottleneck may move to decoding/preprocessing (watch the\n"
          "  decode and preprocess busy fractions; raise decode_workers/preprocess_workers in CaptioningPipeline).\n"
          "  The baseline stays batch 1 without a key/value cache: on a GPU each of its steps is one small, launch-bound\n"
          "  GPT-2 pass over the whole sequence, which gains far less from the device than batched, cached decoding, so\n"
          "  the ratio is likely larger than on CPU; this script has not measured it.\n"
          "  Run the same command on a GPU machine (with a CUDA torch build for the baseline) to measure it.")


# -- modes -----------------------------------------------------------------------------------


def quiet():
    import logging

    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)  # compiling every batch bucket is intended, not "retracing"
    import transformers

    transformers.logging.set_verbosity_error()


def speed(args):
    print(f"backend {keras.config.backend()}, {os.cpu_count()} CPU cores (load average {os.getloadavg()[0]:.1f} at start), "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads; {TOKENS} greedy tokens forced per caption, "
          f"batch {BATCH}, {'tiny' if args.tiny else 'real-size'} random weights")
    cache_dir = Path(args.cache_dir)
    sampling = FrameSampling(mode="interval", interval=args.interval)
    runs = [("shared videos", [VIDEOS / "vtest.avi", VIDEOS / "vtest.mp4", VIDEOS / "tree.avi"])]
    if args.quick:
        runs = [("shared videos (quick)", [VIDEOS / "vtest.avi", VIDEOS / "tree.avi"])]
    else:
        runs.append(("long video", [long_video(cache_dir, args.long_repeats)]))
    with tempfile.TemporaryDirectory(prefix="bench_official_") as directory:
        torch_clipcap, torch_clip, captioner = build_models(args.tiny, directory)
    baseline = Baseline(torch_clipcap, torch_clip, captioner.model.normalize_prefix)
    baseline.caption(np.zeros((240, 320, 3), np.uint8))  # untimed warm-up call
    baseline.times = {key: [] for key in baseline.times}
    print(f"ours: traced and compiled CLIP + greedy decoding for batch buckets {DEFAULT_BUCKETS} in "
          f"{warm_up(captioner):.1f} s (not counted below)", flush=True)
    per_run = max(1, args.baseline_frames // len(runs))
    print(f"sampling: one frame every {args.interval:g} s; baseline captions {per_run} frames per run")
    summaries = [measure(name, paths, captioner, baseline, sampling, per_run) for name, paths in runs]

    print("\nsummary (per frame figures; baseline = measured decode + measured per-frame model time x frames)")
    header = f"{'run':<22} {'frames':>6} {'ours frames/s':>14} {'ours captions/s':>16} {'baseline frames/s':>18} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for s in summaries:
        print(f"{s['name']:<22} {s['frames']:>6} {s['ours_fps']:>14.2f} {s['captions'] / s['wall']:>16.2f} "
              f"{s['baseline_fps']:>18.3f} {s['ours_fps'] / s['baseline_fps']:>6.1f}x")
    print(f"load average at end {os.getloadavg()[0]:.1f} (the CPU is shared: other processes slow both sides)")
    if args.gpu_note:
        gpu_note()


def _rss_now_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def many(args):
    count = args.many
    print(f"--many {count}: {'real-size' if args.real_size_many else 'tiny'} random model, batch {BATCH}, "
          f"greedy {TOKENS} tokens, default sampling (8 uniform frames per video)")
    inputs = many_inputs(Path(args.cache_dir), count)
    print(f"inputs: {sum(not p.endswith('.avi') for p in inputs)} small images + {sum(p.endswith('.avi') for p in inputs)} "
          f"short videos in {Path(args.cache_dir) / 'many_inputs'}")
    print(f"peak RSS at start: {_peak_rss_kib() / 1024:.0f} MiB")
    with tempfile.TemporaryDirectory(prefix="bench_official_") as directory:
        _, _, captioner = build_models(not args.real_size_many, directory)
    warm_up(captioner)
    captioner.predict(inputs[:BATCH + 8], batch_size=BATCH, **GENERATION)  # warm tf.data, threads, allocator
    before = _peak_rss_kib()
    print(f"peak RSS after building, compiling and a {BATCH + 8}-input warm-up run: {before / 1024:.0f} MiB "
          f"(current {(_rss_now_kib() or 0) / 1024:.0f} MiB)", flush=True)

    stats = PipelineStats()
    milestones = sorted({max(1, count * k // 5) for k in range(1, 6)} | ({200} if count > 200 else set()))
    samples, done = {}, threading.Event()

    def sampler():
        while not done.is_set():
            items = stats.items
            for milestone in milestones:
                if items >= milestone and milestone not in samples:
                    samples[milestone] = (_peak_rss_kib(), _rss_now_kib())
            done.wait(0.02)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    started = time.perf_counter()
    results = captioner.predict(inputs, batch_size=BATCH, stats=stats, **GENERATION)
    wall = time.perf_counter() - started
    done.set()
    thread.join()
    after = _peak_rss_kib()
    for milestone in milestones:
        samples.setdefault(milestone, (after, _rss_now_kib()))
    errors = [r.error for r in results if not r.ok]
    print(f"captioned {len(results)} inputs ({stats.frames} frames, {len(errors)} errors) in {wall:.1f} s "
          f"({stats.frames / wall:.1f} frames/s)")
    print(f"{'inputs delivered':>17} {'peak RSS MiB':>13} {'current RSS MiB':>16}")
    for milestone in milestones:
        peak, now = samples[milestone]
        print(f"{milestone:>17} {peak / 1024:>13.0f} {(now or 0) / 1024:>16.0f}")
    print(f"peak RSS before the run {before / 1024:.0f} MiB, after {after / 1024:.0f} MiB "
          f"(+{(after - before) / 1024:.0f} MiB for {count} inputs)")
    if 200 in samples and count > 200:
        growth = (samples[count][0] - samples[200][0]) / 1024
        print(f"peak RSS growth from 200 to {count} inputs: {growth:+.0f} MiB "
              f"({'bounded' if growth < 64 else 'GROWING: check for a leak'}; the returned result list itself grows a little)")
    peaks = ", ".join(f"{name} {stats.peaks.get(name, 0)}/{stats.limits[name]}" for name in sorted(stats.limits))
    print(f"pipeline buffer peaks / limits: {peaks}")
    if errors:
        print("errors:", *errors[:5], sep="\n  ")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: vtest.avi + tree.avi, one frame every 8 s, 2 baseline frames")
    parser.add_argument("--gpu-note", action="store_true", help="print which GPUs are visible and what changes on one")
    parser.add_argument("--many", type=int, metavar="N", help="peak-RSS mode: caption N small inputs with a tiny model")
    parser.add_argument("--real-size-many", action="store_true", help="with --many: use the real-size model")
    parser.add_argument("--interval", type=float, help="seconds between sampled frames (default 1, --quick 8)")
    parser.add_argument("--baseline-frames", type=int, help="frames captioned by the slow baseline (default 16, --quick 2)")
    parser.add_argument("--long-repeats", type=int, default=3, help="vtest+tree repetitions in the long video (3: ~4.3 min)")
    parser.add_argument("--tiny", action="store_true", help="tiny random models (checks this script, not a benchmark)")
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help=f"where generated inputs are kept (default {DEFAULT_CACHE})")
    parser.add_argument("--clear-cache", action="store_true", help="delete the cache folder first")
    args = parser.parse_args()
    if args.interval is None:
        args.interval = 8.0 if args.quick else 1.0
    if args.baseline_frames is None:
        args.baseline_frames = 2 if args.quick else 16
    if args.clear_cache:
        shutil.rmtree(args.cache_dir, ignore_errors=True)
    torch.set_num_threads(os.cpu_count())
    quiet()
    if args.many:
        many(args)
        if args.gpu_note:
            gpu_note()
    else:
        speed(args)


if __name__ == "__main__":
    main()
