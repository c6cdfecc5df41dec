"""`image-captioning` console script: one subcommand per job, each in its own module of this package."""

import argparse
import importlib
import sys

from image_captioning.cli.quiet import import_tensorflow, quiet_backend_logs
from image_captioning.generation.compile_cache import add_compile_cache_arguments, compile_cache_from_args

# name: (help, module). Each module has `add_arguments(parser)` and `run(args)`, and imports its
# heavy dependencies (TensorFlow, Keras, Beam) inside `run`, so that parsing and `--help` stay fast.
SUBCOMMANDS = {
    "caption": ("caption images and videos; write SRT/VTT/JSON and JSONL", "image_captioning.cli.caption"),
    "convert": ("convert official ClipCap + OpenAI CLIP files into a model folder", "image_captioning.cli.convert"),
    "train": ("train a ClipCap model from a preset (hparams/*.json) with overrides", "image_captioning.cli.train"),
    "train-clip": ("contrastive CLIP pretraining (InfoNCE) of an image and a text encoder; recall@1/@5", "image_captioning.cli.train_clip"),
    "evaluate": ("caption a dataset split; BLEU, METEOR, ROUGE-L, CIDEr vs a constant baseline", "image_captioning.cli.evaluate"),
    "beam": ("caption file patterns with Apache Beam (local, Dataflow, Flink); needs the [beam] extra", "image_captioning.cli.beam"),
    "beam-worker-pool": ("a warm SDK worker pool for Beam's portable runner: workers are threads of one process "
                         "that keeps the model loaded across jobs", "image_captioning.cli.beam_worker_pool"),
    "serve": ("HTTP captioning server: dynamic batching, Open Inference Protocol v2, Prometheus metrics", "image_captioning.cli.serve"),
}


def build_parser(argv=None):
    """The whole parser; given `argv`, only the subcommand it names imports its module and gets its
    arguments (the others are listed by name and help only), so a run imports one subcommand."""
    chosen = next((word for word in argv if not word.startswith("-")), None) if argv is not None else None
    parser = argparse.ArgumentParser(prog="image-captioning", description="CLIP -> ClipCap -> GPT-2 captioning.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, module_name) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.add_argument("--verbose", action="store_true", help="also show TensorFlow, XLA and absl log lines")
            add_compile_cache_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    # Before TensorFlow loads: it reads the cache flags at its first XLA compilation.
    compile_cache_from_args(args)
    if args.verbose:
        import_tensorflow()
    else:
        quiet_backend_logs()
    result = args.run(args)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
