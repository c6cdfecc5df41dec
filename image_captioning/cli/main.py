"""`image-captioning` console script: one subcommand per job, each in its own module of this package."""

import argparse

from image_captioning.cli.beam import add_beam_arguments, run_beam
from image_captioning.cli.caption import add_caption_arguments, run_caption
from image_captioning.cli.convert import add_convert_arguments, run_convert
from image_captioning.cli.evaluate import add_evaluate_arguments, run_evaluate
from image_captioning.cli.quiet import quiet_backend_logs
from image_captioning.cli.train import add_train_arguments, run_train

SUBCOMMANDS = {
    "caption": ("caption images and videos; write SRT/VTT/JSON and JSONL", add_caption_arguments, run_caption),
    "convert": ("convert official ClipCap + OpenAI CLIP files into a model folder", add_convert_arguments, run_convert),
    "train": ("train a ClipCap model from a preset (hparams/*.json) with overrides", add_train_arguments, run_train),
    "evaluate": ("caption a dataset split; BLEU, METEOR, ROUGE-L, CIDEr vs a constant baseline", add_evaluate_arguments, run_evaluate),
    "beam": ("caption file patterns with Apache Beam (local, Dataflow, Flink); needs the [beam] extra", add_beam_arguments, run_beam),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="image-captioning", description="CLIP -> ClipCap -> GPT-2 captioning.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.add_argument("--verbose", action="store_true", help="also show TensorFlow, XLA and absl log lines")
        sub.set_defaults(run=run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not args.verbose:
        quiet_backend_logs()
    result = args.run(args)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
