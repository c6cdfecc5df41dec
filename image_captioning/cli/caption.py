"""`image-captioning caption`: caption images and videos, write subtitles, print a summary."""

from pathlib import Path

from image_captioning.generation.config import STRATEGIES


def add_generation_arguments(parser):
    group = parser.add_argument_group("decoding")
    group.add_argument("--strategy", choices=STRATEGIES, help="default: the model's (beam for official ClipCap models)")
    group.add_argument("--beams", dest="num_beams", type=int, help="beam width for --strategy beam (official: 5)")
    group.add_argument("--temperature", type=float, help="sampling temperature")
    group.add_argument("--top-k", type=int, help="sample from the k most likely tokens")
    group.add_argument("--top-p", type=float, help="nucleus sampling: smallest token set with this probability")
    group.add_argument("--num-captions", dest="num_return_sequences", type=int, help="captions per input (beam or sample)")
    group.add_argument("--max-length", type=int, help="most tokens per caption")
    group.add_argument("--seed", type=int, help="seed for --strategy sample")


def add_dtype_argument(parser):
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                        help="float32 (default, the parity-tested path) or bfloat16 copies of the weights "
                             "(faster on CPUs with AVX512-BF16 or AMX; some captions differ)")


def load_captioner(args):
    """`ClipCap.from_pretrained(args.model)` in the --dtype asked for (float32: the model as saved)."""
    from image_captioning.clipcap import ClipCap

    return ClipCap.from_pretrained(args.model, compute_dtype=None if args.dtype == "float32" else args.dtype)


def generation_options(args):
    names = ("strategy", "num_beams", "temperature", "top_k", "top_p", "num_return_sequences", "max_length", "seed")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def add_arguments(parser):
    parser.add_argument("inputs", nargs="+", help="images, videos, folders or glob patterns")
    parser.add_argument("--model", default="shapes-demo", help="a model folder, a known name or hf://owner/repo[@revision] (default: shapes-demo)")
    parser.add_argument("--out", type=Path, help="output folder (default: next to each input)")
    parser.add_argument("--formats", nargs="+", default=["srt", "vtt", "json"], choices=["srt", "vtt", "json"], help="subtitle files per video")
    parser.add_argument("--overlay", action="store_true", help="also save each image with its caption drawn on it")
    parser.add_argument("--gallery", metavar="FILE.html", help="write an HTML gallery of the results")
    sampling = parser.add_argument_group("video frames").add_mutually_exclusive_group()
    sampling.add_argument("--frames", type=int, help="caption N uniformly spaced frames (default: the model's, else 8)")
    sampling.add_argument("--every", type=float, metavar="SECONDS", help="caption one frame every SECONDS")
    sampling.add_argument("--scenes", action="store_true", help="caption each detected shot once")
    parser.add_argument("--batch-size", type=int, default=32, help="frames per CLIP and generation batch")
    parser.add_argument("--stats", action="store_true", help="print each pipeline stage's busy time")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_generation_arguments(parser)
    add_dtype_argument(parser)


def frame_sampling(args):
    from image_captioning.media.frame_sampling import FrameSampling

    if args.scenes:
        return FrameSampling(mode="scenes")
    if args.every:
        return FrameSampling(mode="interval", interval=args.every)
    if args.frames:
        return FrameSampling(mode="uniform", num_frames=args.frames)
    return None  # the model's own video sampling


def run(args):
    from image_captioning.pipeline.stats import PipelineStats

    captioner = load_captioner(args)
    stats = PipelineStats() if args.stats else None
    results = captioner.predict(
        args.inputs, sampling=frame_sampling(args), batch_size=args.batch_size, output_dir=args.out,
        video_formats=tuple(args.formats), overlay=args.overlay, gallery=args.gallery,
        progress=not args.no_progress, stats=stats, **generation_options(args),
    )
    for result in results:
        print(f"{result.source}: {result.caption.text if result.ok else 'ERROR ' + str(result.error)}")
        for warning in getattr(result, "warnings", ()):
            print(f"  warning: {warning}")
    if stats is not None:
        print(stats.summary())
    failed = [result for result in results if not result.ok]
    print(f"{len(results) - len(failed)} captioned, {len(failed)} failed" + (f"; outputs in {args.out}" if args.out else ""))
    return 1 if failed else 0
