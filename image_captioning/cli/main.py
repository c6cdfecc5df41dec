"""`image-captioning` console script: one subcommand per job, each in its own module of this package."""

import argparse
import importlib
import sys

from image_captioning.cli.quiet import quiet_backend_logs

# name: (help, module). Each module has `add_arguments(parser)` and `run(args)`; modules are imported
# only once logging is settled, because importing them loads TensorFlow.
SUBCOMMANDS = {
    "caption": ("caption images and videos; write SRT/VTT/JSON and JSONL", "image_captioning.cli.caption"),
    "convert": ("convert official ClipCap + OpenAI CLIP files into a model folder", "image_captioning.cli.convert"),
    "train": ("train a ClipCap model from a preset (hparams/*.json) with overrides", "image_captioning.cli.train"),
    "train-clip": ("contrastive CLIP pretraining (InfoNCE) of an image and a text encoder; recall@1/@5", "image_captioning.cli.train_clip"),
    "evaluate": ("caption a dataset split; BLEU, METEOR, ROUGE-L, CIDEr vs a constant baseline", "image_captioning.cli.evaluate"),
    "beam": ("caption file patterns with Apache Beam (local, Dataflow, Flink); needs the [beam] extra", "image_captioning.cli.beam"),
    "serve": ("HTTP captioning server: dynamic batching, Open Inference Protocol v2, Prometheus metrics", "image_captioning.cli.serve"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="image-captioning", description="CLIP -> ClipCap -> GPT-2 captioning.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, module_name) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.add_argument("--verbose", action="store_true", help="also show TensorFlow, XLA and absl log lines")
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" not in argv:
        quiet_backend_logs()
    args = build_parser().parse_args(argv)
    result = args.run(args)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
