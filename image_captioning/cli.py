"""`image-captioning` console script: one subcommand per job."""

import argparse

from image_captioning.caption_command import add_caption_arguments, run_caption
from image_captioning.convert import add_convert_arguments, run_convert
from image_captioning.evaluation.evaluate_command import add_evaluate_arguments, run_evaluate
from image_captioning.training.train_clip_command import add_train_clip_arguments, run_train_clip
from image_captioning.training.train_command import add_train_arguments, run_train

SUBCOMMANDS = {
    "caption": ("caption images and videos; write SRT/VTT/JSON and JSONL", add_caption_arguments, run_caption),
    "convert": ("convert official ClipCap + OpenAI CLIP files into a model folder", add_convert_arguments, run_convert),
    "train": ("train a ClipCap model from a preset (hparams/*.json) with overrides", add_train_arguments, run_train),
    "train-clip": ("contrastive CLIP pretraining (InfoNCE) of an image and a text encoder; recall@1/@5", add_train_clip_arguments, run_train_clip),
    "evaluate": ("caption a dataset split; BLEU, METEOR, ROUGE-L, CIDEr vs a constant baseline", add_evaluate_arguments, run_evaluate),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="image-captioning", description="CLIP -> ClipCap -> GPT-2 captioning.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    result = args.run(args)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
