"""Converts PyTorch checkpoints into a folder `ClipCap.from_pretrained` loads: official ClipCap + OpenAI
CLIP files, or a jmisilo/clip-gpt-captioning checkpoint (S or L, read off its shapes).

    python -m image_captioning.cli.convert --clipcap coco_weights.pt --clip ViT-B-32.pt --out pretrained_models/clipcap-coco
    python -m image_captioning.cli.convert --name clipcap-coco-transformer   # downloads when online
    python -m image_captioning.cli.convert --format clip-gpt-captioning --checkpoint weights/small/model.pt \
        --out pretrained_models/clip-gpt-captioning-s
    python -m image_captioning.cli.convert --name clip-gpt-captioning-l --checkpoint weights/large/model.pt
"""

import argparse
from pathlib import Path

from image_captioning import hub
from image_captioning.hub import CLIP_GPT_CAPTIONING


FORMATS = ("official", CLIP_GPT_CAPTIONING)


def add_arguments(parser):
    parser.add_argument("--name", choices=sorted(hub.PRETRAINED_MODELS), help="a known model: its official files are downloaded unless given")
    parser.add_argument("--format", choices=FORMATS, default="official",
                        help="official: --clipcap + --clip files; clip-gpt-captioning: --checkpoint (jmisilo/clip-gpt-captioning)")
    parser.add_argument("--checkpoint", type=Path,
                        help="clip-gpt-captioning checkpoint (its model.pt: CLIP, mapper and GPT-2 in one state dict)")
    parser.add_argument("--gpt2", type=Path,
                        help="clip-gpt-captioning only: Hugging Face GPT-2 weights, for a checkpoint without td.model.* keys")
    parser.add_argument("--clipcap", type=Path, help="official ClipCap .pt file (coco_weights.pt, transformer_weights.pt, ...)")
    parser.add_argument("--clip", type=Path, help="OpenAI CLIP file (ViT-B-32.pt, RN50x4.pt, ...) the ClipCap file was trained with; "
                        "for clip-gpt-captioning, Hugging Face CLIP weights for a checkpoint without ie.model.* keys")
    parser.add_argument("--out", type=Path, help="output folder (default: pretrained_models/<name>)")
    parser.add_argument("--normalize-prefix", choices=["auto", "yes", "no"], default="auto",
                        help="L2-normalise CLIP embeddings before the mapper (auto: yes for Transformer mappers)")


def run(args):
    from image_captioning.clipcap import ClipCap, convert_named_model

    if args.name:
        hparams = hub.load_hparams(args.name)
        cache_dir = args.out.parent if args.out else hub.cache_dir()
        if args.out:
            hparams = {**hparams, "name": args.out.name}
        own_file = args.checkpoint if hparams.get("format") == CLIP_GPT_CAPTIONING else args.clipcap
        convert_named_model(hparams, cache_dir, own_file, args.clip)
        out = cache_dir / hparams["name"]
    elif args.format == CLIP_GPT_CAPTIONING:
        if args.checkpoint is None or args.out is None:
            raise SystemExit("convert --format clip-gpt-captioning: give --checkpoint and --out (and --clip / --gpt2 only "
                             "for a checkpoint without those parts).")
        from image_captioning.converters.clip_gpt_captioning import convert_clip_gpt_captioning

        model, size = convert_clip_gpt_captioning(args.checkpoint, args.clip, args.gpt2)
        print(f"{args.checkpoint}: clip-gpt-captioning size {size}")
        out = ClipCap(model, {"preset": CLIP_GPT_CAPTIONING}).save_pretrained(args.out)
    else:
        if args.clipcap is None or args.clip is None or args.out is None:
            raise SystemExit("convert: give --name, or all of --clipcap, --clip and --out.")
        normalize = {"auto": None, "yes": True, "no": False}[args.normalize_prefix]
        out = ClipCap.from_official(args.clipcap, args.clip, normalize_prefix=normalize).save_pretrained(args.out)
    print(f"Saved to {out}: load it with ClipCap.from_pretrained({str(out)!r})")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m image_captioning.cli.convert", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
