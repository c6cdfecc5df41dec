"""`shapes_synthetic`: the seeded coloured-shapes scenes as a TFDS dataset, generated offline.

The file name follows TFDS' `<name>_dataset_builder.py` convention, so `tfds build` finds it by its
folder. Each item is drawn by `synthetic.generator` from its own seeded generator, with the splits
`generate_scenes` assigns: the "images" config holds the same scenes (pixel for pixel) as
`generate_scenes(out, num_images=6000, num_videos=0, seed=0, image_size=96)`.
"""

import dataclasses
import json

import numpy as np
import tensorflow_datasets as tfds

from image_captioning.synthetic.generator import image_item, split_assignment, video_item

# Our split names -> TFDS' standard ones.
TFDS_SPLITS = {"train": "train", "val": "validation", "test": "test"}


@dataclasses.dataclass(eq=False)
class ShapesSyntheticConfig(tfds.core.BuilderConfig):
    """One set of generated scenes.

    Args:
        kind: "image" (one `image` feature) or "video" (`video` frames and their `fps`).
        num_items: images or videos over all splits (80 % train, 10 % validation, 10 % test).
        image_size: side of the square images and frames, in pixels.
        seed: same seed, same scenes.
        fps: video frame rate; videos last 2 to 4 s.

    Example:
    ```python
    config = ShapesSyntheticConfig(name="videos_seed7", kind="video", num_items=200, seed=7)
    builder = Builder(config=config, data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ```
    """

    kind: str = "image"
    num_items: int = 6000
    image_size: int = 96
    seed: int = 0
    fps: int = 10


class Builder(tfds.core.GeneratorBasedBuilder):
    """Images or videos of coloured shapes with paraphrased captions and the ground-truth scene.

    Features: `image` (S, S, 3) uint8 or `video` (T, S, S, 3) uint8 with `fps`; `captions`, a
    sequence of strings; `scene`, the drawn scene as JSON text (the `scene` of a `scenes.json` item,
    which `evaluation.grounded` scores captions against). Nothing is downloaded.

    Example:
    ```python
    import image_captioning.datasets.shapes_synthetic  # registers the builder
    builder = tfds.builder("shapes_synthetic/images_tiny", data_dir="/tmp/tfds")
    builder.download_and_prepare()
    train = builder.as_dataset(split="train")
    ```
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Images and videos of coloured shapes with the ground-truth scene."}
    BUILDER_CONFIGS = [
        ShapesSyntheticConfig(name="images", description="6000 images, 96 px (the shapes-demo data)."),
        ShapesSyntheticConfig(name="videos", description="600 videos, 96 px, 10 fps.", kind="video", num_items=600),
        ShapesSyntheticConfig(name="images_tiny", description="40 images, 32 px, for smoke tests.", num_items=40, image_size=32),
        ShapesSyntheticConfig(name="videos_tiny", description="20 videos, 32 px, for smoke tests.", kind="video",
                              num_items=20, image_size=32),
    ]

    def _info(self):
        config = self.builder_config
        if config.kind not in ("image", "video"):
            raise ValueError(f"shapes_synthetic config {config.name!r}: kind must be 'image' or 'video', got {config.kind!r}")
        size = config.image_size
        features = {"captions": tfds.features.Sequence(tfds.features.Text()), "scene": tfds.features.Text()}
        if config.kind == "image":
            features["image"] = tfds.features.Image(shape=(size, size, 3))
        else:
            features["video"] = tfds.features.Video(shape=(None, size, size, 3))
            features["fps"] = tfds.features.Scalar(np.float32)
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "Seeded scenes of one or two coloured shapes (images), or of a shape that moves or stays, "
                "with or without a cut (videos), each with paraphrased captions and its scene as JSON."
            ),
            features=tfds.features.FeaturesDict(features),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is generated
        return {tfds_name: self._generate_examples(split) for split, tfds_name in TFDS_SPLITS.items()}

    def _generate_examples(self, split):
        config = self.builder_config
        image_splits, video_splits = split_assignment(
            config.seed, config.num_items if config.kind == "image" else 0, config.num_items if config.kind == "video" else 0
        )
        splits = image_splits if config.kind == "image" else video_splits
        for index, item_split in enumerate(splits):
            if item_split != split:
                continue
            if config.kind == "image":
                pixels, entry = image_item(config.seed, index, config.image_size)
                example = {"image": pixels}
            else:
                pixels, entry = video_item(config.seed, index, config.image_size, config.fps)
                example = {"video": pixels, "fps": float(config.fps)}
            yield f"{index:06d}", {**example, "captions": entry["captions"], "scene": json.dumps(entry["scene"])}


ShapesSynthetic = Builder
