"""`tfds:NAME[/CONFIG]` data: any prepared TFDS dataset of images (or video frames) and captions.

A split is written once as a plain media folder (`images/` or `videos/`, `captions.csv`, and
`scenes.json` when the dataset carries synthetic scenes), then read with the `folder_csv` reader.
So TFDS data becomes the same `CaptionRecord`s as local files, and everything downstream (the
embedding cache keyed by path, `predict`'s threaded decoding and frame sampling, the HTML report's
thumbnails, the grounded metrics that find `scenes.json` beside the media) works unchanged.
Encoded images are copied byte for byte, without decoding; videos are written as MPEG-4 files.
`captions="canonical"` gives each item the one canonical caption of its scene, as the synthetic
source does, from that same `scenes.json`.
"""

import io
import json
from pathlib import Path

from PIL import Image

from image_captioning.datasets.folder_csv import read_folder_csv
from image_captioning.datasets.records import normalize_split
from image_captioning.media.extensions import IMAGE_EXTENSIONS
from image_captioning.synthetic.canonical import wants_canonical_captions, with_canonical_captions
from image_captioning.synthetic.generator import SCENES_FILE, write_dataset_index
from image_captioning.synthetic.video_files import write_video

# Dataset -> {role: feature path}. Roles: "image" or "video" (one of them), "captions" (a Text or a
# sequence of Text), and the optional "scene" (synthetic scene JSON) and "fps". A nested feature is
# written "parent/child". Datasets not listed use DEFAULT_FEATURES; `features=` overrides either.
FEATURE_NAMES = {
    "coco_captions": {"image": "image", "captions": "captions/text"},
    "shapes_synthetic": {"image": "image", "video": "video", "captions": "captions", "scene": "scene", "fps": "fps"},
}
DEFAULT_FEATURES = {"image": "image", "video": "video", "captions": "captions"}
MEDIA_ROLES = ("image", "video")
OPTIONAL_ROLES = ("scene", "fps")
# Builders that generate their data offline: prepared on first use. Others must be prepared by the user.
OFFLINE_BUILDERS = {"shapes_synthetic": "image_captioning.datasets.shapes_synthetic"}
DEFAULT_VIDEO_FPS = 25.0
MEDIA_FOLDER = "image_captioning"  # inside the builder's data folder: <data_dir>/<name>/<config>/<version>/
PIL_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "GIF": ".gif", "TIFF": ".tif"}


def read_tfds(name, split=None, data_dir=None, media_dir=None, features=None, captions="paraphrases"):
    """Reads one split of a TFDS dataset into CaptionRecords (media written to files once).

    Args:
        name: "NAME", "NAME/CONFIG" or "NAME/CONFIG:VERSION", as `tfds.builder` takes it.
        split: our split name ("train", "val", "test", ...); "val" also finds TFDS' "validation".
            None reads every split. A split the dataset lacks gives no records.
        data_dir: the TFDS data folder; None is TFDS' default (`~/tensorflow_datasets`).
        media_dir: where the split folders are written (under NAME/CONFIG/VERSION/); defaults to
            `image_captioning/` inside the prepared dataset's folder (pass one when that is read-only).
        features: {role: feature path} overriding the `FEATURE_NAMES` table, e.g.
            `{"image": "img", "captions": "texts"}`.
        captions: "paraphrases", the dataset's own captions, or "canonical", one caption per item made
            from its ground-truth scene (`synthetic.canonical`); only a dataset with a scene feature has those.

    Example:
    ```python
    records = read_tfds("shapes_synthetic/images_tiny", split="train", data_dir="/tmp/tfds")
    records = read_tfds("shapes_synthetic/videos_tiny", split="train", data_dir="/tmp/tfds", captions="canonical")
    records = read_tfds("coco_captions", split="val")  # once `tfds build coco_captions` has run
    ```
    """
    canonical = wants_canonical_captions(captions)
    builder = prepared_builder(name, data_dir)
    roles = feature_roles(name, builder, features)
    if canonical and "scene" not in roles:
        raise ValueError(
            f"tfds:{name} has no scene feature, and canonical captions are made from each item's ground-truth scene "
            "(only synthetic data such as tfds:shapes_synthetic has one): train on its own captions with "
            "--set data.captions=paraphrases, or map its scene feature with data.features."
        )
    media_root = Path(media_dir) / builder.info.full_name if media_dir else Path(builder.data_dir) / MEDIA_FOLDER
    records = []
    for tfds_split in matching_splits(builder, split):
        folder = media_root / normalize_split(tfds_split)
        if not (folder / "captions.csv").is_file():
            write_split_folder(builder, tfds_split, roles, folder, name)
        split_records = read_folder_csv(folder / "captions.csv")
        records.extend(with_canonical_captions(split_records, folder / SCENES_FILE) if canonical else split_records)
    return records


def prepared_builder(name, data_dir):
    """The TFDS builder of `name`; offline builders are prepared here, others must already be."""
    import tensorflow_datasets as tfds

    if not name:
        raise ValueError("empty TFDS name: use tfds:NAME or tfds:NAME/CONFIG, e.g. tfds:shapes_synthetic/images")
    base_name = name.split("/")[0].split(":")[0]
    if base_name in OFFLINE_BUILDERS:
        __import__(OFFLINE_BUILDERS[base_name])
    try:
        builder = tfds.builder(name, data_dir=None if data_dir is None else str(data_dir))
    except tfds.core.registered.DatasetNotFoundError as error:
        raise ValueError(f"tfds:{name}: no such TFDS dataset or config ({error}); check the name with `tfds build --help` "
                         "or the TFDS catalog") from None
    if not builder.is_prepared():
        if base_name not in OFFLINE_BUILDERS:
            raise FileNotFoundError(
                f"tfds:{name} is not prepared in {builder.data_dir}: prepare it once with "
                f"`tfds build {name}{'' if data_dir is None else f' --data_dir {data_dir}'}` (some datasets need "
                "manual downloads, see their TFDS catalog page), or pass the data_dir where it is prepared."
            )
        builder.download_and_prepare()
    return builder


def feature_roles(name, builder, overrides=None):
    """{role: feature path} for the features this dataset has; a clear error for a missing one."""
    table = {**FEATURE_NAMES.get(builder.name, DEFAULT_FEATURES), **(overrides or {})}
    unknown = sorted(set(table) - set(MEDIA_ROLES) - {"captions"} - set(OPTIONAL_ROLES))
    if unknown:
        raise ValueError(f"tfds:{name}: unknown feature role(s) {unknown}; known: image, video, captions, scene, fps")
    available = sorted(flat_feature_names(builder.info.features))
    fix = ('map them with data.features, e.g. --set \'data.features={"image": "<image feature>", '
           '"captions": "<caption feature>"}\'')
    roles = {role: path for role, path in table.items() if path in available}
    media = [role for role in MEDIA_ROLES if role in roles]
    if len(media) != 1:
        wanted = " or ".join(f"{role} feature {table[role]!r}" for role in MEDIA_ROLES if role in table)
        problem = f"has no {wanted}" if not media else "has both an image and a video feature; map only one"
        raise ValueError(f"tfds:{name} {problem}; its features are {available}: {fix}")
    if "captions" not in roles:
        raise ValueError(f"tfds:{name} has no captions feature {table.get('captions')!r}; its features are {available}: {fix}")
    return roles


def flat_feature_names(features, prefix=""):
    """Feature paths of a FeaturesDict ("image", "captions/text", ...), through Sequences."""
    import tensorflow_datasets as tfds

    names = set()
    while isinstance(features, tfds.features.Sequence):
        features = features.feature
    if isinstance(features, tfds.features.FeaturesDict):
        for key, feature in features.items():
            path = f"{prefix}{key}"
            names.add(path)
            names |= flat_feature_names(feature, path + "/")
    return names


def matching_splits(builder, split):
    """The dataset's split names that `split` means ("val" matches "validation"); all when None."""
    names = list(builder.info.splits.keys())
    if split is None:
        return names
    if split in names:
        return [split]
    return [name for name in names if normalize_split(name) == normalize_split(split)]


def write_split_folder(builder, tfds_split, roles, folder, name):
    """Writes one split's media, `captions.csv` and (synthetic data) `scenes.json` into `folder`."""
    import tensorflow_datasets as tfds

    kind = "image" if "image" in roles else "video"
    (folder / f"{kind}s").mkdir(parents=True, exist_ok=True)
    decoders = nested({roles["image"]: tfds.decode.SkipDecoding()}) if kind == "image" else None
    print(f"Writing tfds:{name} split {tfds_split!r} to {folder} (once)")
    entries, skipped = [], 0
    dataset = builder.as_dataset(split=tfds_split, decoders=decoders, shuffle_files=False)
    for index, example in enumerate(tfds.as_numpy(dataset)):
        captions = caption_texts(feature_value(example, roles["captions"]))
        if not captions:
            skipped += 1
            continue
        media = feature_value(example, roles[kind])
        if kind == "image":
            file = write_image_bytes(media, folder / "images" / f"{index:06d}")
        else:
            fps = float(feature_value(example, roles["fps"])) if "fps" in roles else DEFAULT_VIDEO_FPS
            file = write_video(media, folder / "videos" / f"{index:06d}.mp4", fps)
        entry = {"file": file.relative_to(folder).as_posix(), "kind": kind, "split": normalize_split(tfds_split),
                 "captions": captions}
        if "scene" in roles:
            entry["scene"] = json.loads(feature_value(example, roles["scene"]))
        entries.append(entry)
    if skipped:
        print(f"Skipped {skipped} tfds:{name} {tfds_split} items without captions")
    write_dataset_index(folder, entries, {"tfds": name, "split": tfds_split} if "scene" in roles else None)


def nested(flat):
    """{"a/b": value} -> {"a": {"b": value}}, the shape TFDS' `decoders=` takes."""
    tree = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def feature_value(example, path):
    for part in path.split("/"):
        example = example[part]
    return example


def caption_texts(value):
    """A Text feature (bytes) or a sequence of them -> non-empty, stripped strings."""
    values = [value] if isinstance(value, (bytes, str)) else list(value)
    texts = [text.decode("utf-8") if isinstance(text, bytes) else str(text) for text in values]
    return [text.strip() for text in texts if text.strip()]


def write_image_bytes(data, stem):
    """Writes an encoded image as is when its format is a known image type, else as PNG; returns the path."""
    image = Image.open(io.BytesIO(data))
    suffix = PIL_SUFFIXES.get(image.format)
    if suffix in IMAGE_EXTENSIONS:
        path = stem.with_suffix(suffix)
        path.write_bytes(data)
    else:
        path = stem.with_suffix(".png")
        image.save(path, format="PNG")
    return path
