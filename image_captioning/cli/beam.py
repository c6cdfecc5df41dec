"""`image-captioning beam`: caption file patterns with Apache Beam; Beam's own options (--runner, ...) pass through."""

from image_captioning.cli.caption import add_generation_arguments, frame_sampling, generation_options


def add_arguments(parser):
    parser.add_argument("--input", action="append", required=True, metavar="PATTERN",
                        help="file pattern on any Beam filesystem (photos/*.jpg, gs://bucket/clips/**); repeatable")
    parser.add_argument("--output", required=True, metavar="PREFIX",
                        help="output prefix: PREFIX-captions-*.jsonl, PREFIX-errors-*.jsonl, PREFIX-videos/ "
                             "(a PREFIX ending in / is a folder)")
    parser.add_argument("--model", default="shapes-demo",
                        help="model folder (local, or gs://... copied to each worker) or known name (default: shapes-demo)")
    parser.add_argument("--formats", nargs="+", default=["srt", "vtt", "json"], choices=["srt", "vtt", "json"],
                        help="files per video")
    sampling = parser.add_argument_group("video frames").add_mutually_exclusive_group()
    sampling.add_argument("--frames", type=int, default=8, help="caption N uniformly spaced frames (default 8)")
    sampling.add_argument("--every", type=float, metavar="SECONDS", help="caption one frame every SECONDS")
    sampling.add_argument("--scenes", action="store_true", help="caption each detected shot once")
    batching = parser.add_argument_group("RunInference")
    batching.add_argument("--batch-size", type=int, default=32, help="most frames per inference batch (default 32)")
    batching.add_argument("--min-batch-size", type=int, default=1, help="fewest frames per inference batch")
    batching.add_argument("--large-model", action="store_true", help="one model per machine, shared by its processes")
    batching.add_argument("--model-copies", type=int, help="exactly N models per machine, shared by its processes")
    parser.add_argument("--attempts", type=int, default=1,
                        help="submit the whole job up to N times; for runners that fail the job when a worker dies "
                             "(DirectRunner, Beam's local job service) instead of retrying its bundle (default 1)")
    add_generation_arguments(parser)
    parser.epilog = ("Any other option goes to Beam: --runner DataflowRunner --project P --region R --temp_location "
                     "gs://..., --runner FlinkRunner --flink_master HOST:8081, ...")
    pass_unknown_options_to_beam(parser)


def pass_unknown_options_to_beam(parser):
    """Collects options this parser does not know into `args.pipeline_args` instead of rejecting them.

    argparse offers no per-subcommand switch for this, so the subparser's own `parse_known_args` is wrapped;
    abbreviations are turned off so that a Beam option is never taken for a prefix of one of ours.
    """
    parse_known_args = parser.parse_known_args

    def keep_unknown(args=None, namespace=None):
        namespace, unknown = parse_known_args(args, namespace)
        namespace.pipeline_args = unknown
        return namespace, []

    parser.allow_abbrev = False
    parser.parse_known_args = keep_unknown


def run(args):
    from image_captioning.beam import caption_with_beam

    counts = caption_with_beam(
        args.input, args.output, args.model, generation=generation_options(args), sampling=frame_sampling(args),
        video_formats=tuple(args.formats), min_batch_size=args.min_batch_size, max_batch_size=args.batch_size,
        large_model=args.large_model, model_copies=args.model_copies, pipeline_args=args.pipeline_args,
        attempts=args.attempts,
    )
    print(f"{counts['inputs']} inputs: {counts['captions']} captioned, {counts['errors']} errors "
          f"({counts['frames']} frames); outputs under {args.output}"
          + (f" (attempt {counts['attempts']})" if counts["attempts"] > 1 else ""))
    if counts["inputs"] != counts["captions"] + counts["errors"]:
        print("WARNING: inputs != captions + errors; the runner may not report committed metrics")
        return 2
    return 1 if counts["errors"] else 0
