"""Converts official ClipCap + OpenAI CLIP PyTorch files into a folder `ClipCap.from_pretrained` loads.

    python -m image_captioning.cli.convert --clipcap coco_weights.pt --clip ViT-B-32.pt --out pretrained_models/clipcap-coco
    python -m image_captioning.cli.convert --name clipcap-coco-transformer   # downloads when online
"""

import argparse
from pathlib import Path

from image_captioning import hub


def add_arguments(parser):
    parser.add_argument("--name", choices=sorted(hub.PRETRAINED_MODELS), help="a known model: its official files are downloaded unless given")
    parser.add_argument("--clipcap", type=Path, help="official ClipCap .pt file (coco_weights.pt, transformer_weights.pt, ...)")
    parser.add_argument("--clip", type=Path, help="OpenAI CLIP file (ViT-B-32.pt, RN50x4.pt, ...) the ClipCap file was trained with")
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
        convert_named_model(hparams, cache_dir, args.clipcap, args.clip)
        out = cache_dir / hparams["name"]
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
