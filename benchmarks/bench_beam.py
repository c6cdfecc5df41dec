"""Beam pipeline throughput on the DirectRunner beside `ClipCap.predict`, in the same process and run.

    python benchmarks/bench_beam.py            # 1000 inputs (990 photos + 10 videos), 3 rounds each
    python benchmarks/bench_beam.py --quick    # 200 inputs (195 + 5), 2 rounds
    python benchmarks/bench_beam.py --beam-args=--direct_num_workers=2 --beam-args=--direct_running_mode=multi_processing
    python benchmarks/bench_beam.py --quick --portable   # adds Beam's portable path, 1 and 2 SDK workers

Inputs are made once in a cache folder: copies of the shared photos shrunk to a 256 px short side (so
decoding does not dwarf the rest) and copies of tree.avi (68 frames; 8 sampled per video). The model is
the shipped shapes-demo (tiny), greedy, 12 tokens, so the numbers show each pipeline's own overhead.

Each round times, end to end and writing the same outputs, over the same files:
  * predict, cold: `ClipCap.from_pretrained(...)` then `predict(..., output_dir=...)`: model load and the
    tracing / XLA compilation of its functions included, as for a Beam job;
  * predict, warm: `predict` again on that same captioner (its traced functions kept);
  * Beam: `caption_with_beam` on the DirectRunner: pipeline construction, model load and tracing in the
    worker, matching, reading, decoding, RunInference, regrouping and all writes.
  * with --portable, Beam's portable path as clusters run it: a job service and an EXTERNAL worker pool
    (separate processes, started before the clock), 1 and 2 SDK worker processes, each with an empty
    compilation cache ("cold") and then with the cache the cold run filled ("warm"); besides the whole
    run, the seconds from submission to the first finished batch (the first caption) are reported, and a
    timeline of what a worker does before it: process start, model load begin and end, first batch;
  * with --portable, the same two jobs on a warm pool (`image-captioning beam-worker-pool`: SDK workers are
    threads of one long-lived process): the first job loads and traces the model in it, the next one does not.
Prints min / median / max seconds and inputs per second over the rounds, and checks that both sides
give the same captions.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from PIL import Image  # noqa: E402

from image_captioning import ClipCap  # noqa: E402
from image_captioning.beam import ClipCapModelHandler, caption_with_beam  # noqa: E402
from image_captioning.beam.local_portable import local_portable_services  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "image_captioning_bench_beam"
MODEL = ROOT / "pretrained_models" / "shapes-demo"
GENERATION = {"strategy": "greedy", "max_length": 12}


def make_inputs(folder: Path, photos: int, videos: int) -> list[str]:
    folder = folder / f"{photos}-photos-{videos}-videos"
    if not (folder / "done").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        sources = sorted((SHARED / "images").iterdir())
        small = []
        for source in sources:
            image = Image.open(source).convert("RGB")
            scale = 256 / min(image.size)
            small.append(image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC))
        for n in range(photos):
            small[n % len(small)].save(folder / f"photo_{n:04d}.jpg", quality=90)
        for n in range(videos):
            shutil.copy(SHARED / "videos" / "tree.avi", folder / f"clip_{n:03d}.avi")
        (folder / "done").write_text("")
    return sorted(str(p) for p in folder.iterdir() if p.suffix in (".jpg", ".avi"))


def time_predict(captioner, files, out: Path, batch_size: int):
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    results = captioner.predict(files, batch_size=batch_size, output_dir=out, **GENERATION)
    return time.perf_counter() - start, results


def time_beam(files, out: Path, batch_size: int, beam_args):
    shutil.rmtree(out, ignore_errors=True)
    patterns = sorted({str(Path(f).parent / ("*" + Path(f).suffix)) for f in files}) if len(files) > 1 else files
    start = time.perf_counter()
    counts = caption_with_beam(patterns, str(out) + "/", str(MODEL), generation=GENERATION, max_batch_size=batch_size,
                               min_batch_size=batch_size, pipeline_args=["--runner=DirectRunner", *beam_args])
    return time.perf_counter() - start, counts


EVENTS = {"worker": "SDK worker process started", "load": "model load begins (imports included)",
          "loaded": "model loaded", "first": "first batch captioned (the first caption)"}


def process_start_time() -> float:
    """Wall-clock time at which this process started (Linux /proc)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


class TimelineHandler(ClipCapModelHandler):
    """Appends "event wall-clock-time" lines to `stamps`: its process's start, the model load's begin and end,
    and its first finished batch (see EVENTS)."""

    def __init__(self, *args, stamps, **kwargs):
        super().__init__(*args, **kwargs)
        self.stamps, self._noted = str(stamps), False

    def _note(self, event, at=None):
        with open(self.stamps, "a") as handle:
            handle.write(f"{event} {time.time() if at is None else at}\n")

    def _load(self):
        self._note("worker", process_start_time())
        self._note("load")
        model = super()._load()
        self._note("loaded")
        return model

    def run_inference(self, batch, model, inference_args=None):
        results = super().run_inference(batch, model, inference_args)
        if not self._noted:
            self._noted = True
            self._note("first")
        return results


def time_portable(files, out: Path, batch_size: int, beam_args, cache: Path):
    """(seconds, {event: seconds after submission, earliest over workers}, counts) of one portable run whose
    workers use `cache`."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    stamps = out / "timeline"
    handler = TimelineHandler(str(MODEL), GENERATION, min_batch_size=batch_size, max_batch_size=batch_size,
                              compile_cache=str(cache), stamps=stamps)
    patterns = sorted({str(Path(f).parent / ("*" + Path(f).suffix)) for f in files})
    start = time.time()
    counts = caption_with_beam(patterns, str(out) + "/", str(MODEL), handler=handler, pipeline_args=beam_args)
    seconds = time.time() - start
    timeline = {}
    for event, at in (line.split() for line in stamps.read_text().splitlines()):
        if float(at) >= start:  # not the warm pool's process start, which precedes the job
            timeline[event] = min(timeline.get(event, float("inf")), float(at) - start)
    return seconds, timeline, counts


POOLS = {"portable": ("cold", "warm"), "warm pool": ("first job", "next job")}


def portable_rounds(files, work: Path, batch_size: int, timings: dict, timelines: dict):
    """One round of the portable rows: for Beam's worker pool and for the warm pool, 1 and 2 SDK workers, two jobs
    on a fresh pool and an empty compilation cache: Beam's pool runs the second from the warm cache; the warm pool
    also keeps the model loaded and traced in its process."""
    for pool, states in POOLS.items():
        for workers in (1, 2):
            cache = work / f"xla-{workers}"
            shutil.rmtree(cache, ignore_errors=True)
            env = {**os.environ, "IMAGE_CAPTIONING_COMPILE_CACHE": str(cache),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
            env.pop("TF_XLA_FLAGS", None)  # this process's own cache folder, set by its DirectRunner rows
            with local_portable_services(env, log_dir=work / "logs", warm_pool=pool == "warm pool") as beam_args:
                for state in states:
                    name = f"{pool}, {workers} worker{'s' * (workers > 1)}, {state}"
                    seconds, timeline, counts = time_portable(files, work / "portable", batch_size,
                                                              [*beam_args, f"--direct_num_workers={workers}"], cache)
                    assert counts["inputs"] == len(files) == counts["captions"] + counts["errors"], counts
                    timings.setdefault(name, []).append(seconds)
                    timelines.setdefault(name, []).append(timeline)


def _median_event(rounds_timelines, event) -> str:
    times = [timeline[event] for timeline in rounds_timelines if event in timeline]
    return f"{statistics.median(times):.1f}" if times else "-"


def beam_captions(out: Path) -> dict:
    lines = [json.loads(line) for path in out.glob("captions-*.jsonl") for line in path.read_text().splitlines()]
    return {line["source"]: _texts(line) for line in lines}


def _texts(record: dict):
    if record["kind"] == "video":
        return [record["caption"]["text"]] + [s["caption"]["text"] for s in record["segments"]]
    return [c["text"] for c in record["captions"]]


def summary(name: str, seconds: list[float], inputs: int) -> str:
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    return (f"{name:<30} {low:8.1f} {mid:8.1f} {high:8.1f}   "
            f"{inputs / high:7.1f} {inputs / mid:7.1f} {inputs / low:7.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 inputs, 2 rounds")
    parser.add_argument("--rounds", type=int, help="default 3 (quick: 2)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--portable", action="store_true", help="add the portable-runner rows (job service + worker pool)")
    parser.add_argument("--beam-args", action="append", default=[], help="a Beam option, e.g. --direct_num_workers=2")
    args = parser.parse_args(argv)
    photos, videos = (195, 5) if args.quick else (990, 10)
    rounds = args.rounds or (2 if args.quick else 3)
    files = make_inputs(args.cache, photos, videos)
    work = Path(tempfile.mkdtemp(prefix="bench-beam-"))
    print(f"{len(files)} inputs ({photos} photos, {videos} videos x 8 frames); model {MODEL.name}, "
          f"{GENERATION}; batch {args.batch_size}; {rounds} rounds; Beam args {args.beam_args or 'none'}")

    timings = {"predict, cold": [], "predict, warm": [], "Beam DirectRunner": []}
    timelines = {}
    for round_number in range(rounds):
        start = time.perf_counter()
        captioner = ClipCap.from_pretrained(MODEL)
        seconds, results = time_predict(captioner, files, work / "predict", args.batch_size)
        timings["predict, cold"].append(time.perf_counter() - start)
        seconds, results = time_predict(captioner, files, work / "predict", args.batch_size)
        timings["predict, warm"].append(seconds)
        seconds, counts = time_beam(files, work / "beam", args.batch_size, args.beam_args)
        timings["Beam DirectRunner"].append(seconds)
        assert counts["inputs"] == len(files) == counts["captions"] + counts["errors"], counts
        if args.portable:
            portable_rounds(files, work, args.batch_size, timings, timelines)
        print(f"round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in timings.items()) + f" {counts}",
              flush=True)
    expected = {r.source: _texts(r.to_dict()) for r in results}
    same = beam_captions(work / "beam") == expected
    print(f"\n{'':<30} {'seconds':^26}   {'inputs per second':^23}")
    print(f"{'':<30} {'min':>8} {'median':>8} {'max':>8}   {'min':>7} {'median':>7} {'max':>7}")
    for name, seconds in timings.items():
        print(summary(name, seconds, len(files)))
    for name, rounds_timelines in timelines.items():
        firsts = [timeline["first"] for timeline in rounds_timelines]
        print(f"{name:<30} first caption after {min(firsts):.1f} / {statistics.median(firsts):.1f} / "
              f"{max(firsts):.1f} s (min / median / max)")
    if timelines:
        print("\nportable timeline, median seconds after submission (earliest over the job's workers; "
              "'-': done before this job, in the warm pool's process):")
        print(f"{'':<45}" + "".join(f"{name.replace(' worker', 'w').replace('portable', 'Beam pool'):>27}"
                                    for name in timelines))
        for event, meaning in EVENTS.items():
            medians = [_median_event(rounds_timelines, event) for rounds_timelines in timelines.values()]
            print(f"{meaning:<45}" + "".join(f"{m:>27}" for m in medians))
        same = same and beam_captions(work / "portable") == expected
    print(f"captions identical on both sides: {same}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
