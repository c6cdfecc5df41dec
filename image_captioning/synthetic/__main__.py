"""Command line: `python -m image_captioning.synthetic --out DIR --images N --videos M --seed S`."""

import argparse

from image_captioning.synthetic.generator import generate_scenes


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m image_captioning.synthetic",
        description="Write a synthetic dataset of coloured shapes with captions (folder + captions.csv).",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--images", type=int, default=100, help="number of still images")
    parser.add_argument("--videos", type=int, default=10, help="number of 2-4 s videos")
    parser.add_argument("--seed", type=int, default=0, help="same seed, byte-identical images")
    parser.add_argument("--image-size", type=int, default=224, help="side of images and frames, in pixels")
    parser.add_argument("--video-format", choices=("mp4", "avi"), default="mp4")
    args = parser.parse_args(argv)
    dataset = generate_scenes(args.out, args.images, args.videos, seed=args.seed,
                              image_size=args.image_size, video_format=args.video_format)
    print(f"wrote {dataset.num_images} images and {dataset.num_videos} videos; captions in {dataset.captions_csv}")


if __name__ == "__main__":
    main()
