"""Reader for Karpathy split files (`dataset_coco.json`, `dataset_flickr8k.json`, ...).

Layout: {"images": [{"filepath": "val2014", "filename": "...jpg", "cocoid": 42,
"split": "train"|"val"|"test"|"restval", "sentences": [{"raw": "..."}]}]}.
`filepath` and `cocoid` exist only in the COCO file.
"""

from pathlib import Path

from image_captioning.datasets.json_fields import caption_field, field, load_json
from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, raise_or_warn, select_split

KARPATHY_SPLITS = ("train", "val", "test", "restval")


def read_karpathy_json(path, images_dir=None, split=None, restval_as_train=True, strict=True):
    """Reads a Karpathy split file, captions included, into CaptionRecords.

    Args:
        path: `dataset_coco.json` (or the Flickr equivalents).
        images_dir: folder that holds `filepath/filename`; defaults to the JSON's folder.
        split: keep only this split ("train", "val", "test"); None keeps all.
        restval_as_train: label "restval" images "train", as the usual 113k-image Karpathy
            training set does; False keeps "restval".
        strict: raise on a malformed entry (default); if False, warn and skip it.

    Example:
    ```python
    train = read_karpathy_json("coco/dataset_coco.json", images_dir="coco", split="train")
    ```
    """
    path = Path(path)
    images_dir = Path(images_dir) if images_dir is not None else path.parent
    records = []
    for json_path, entry in _entries(path):
        try:
            entry_split = _split_of(path, entry, json_path, restval_as_train)
            sentences = field(path, entry, "sentences", json_path, list)
            captions = [
                caption_field(path, sentence, "raw", f"{json_path}.sentences[{index}]")
                for index, sentence in enumerate(sentences)
            ]
            if not captions:
                raise DatasetFormatError(path, "no sentences; expected at least one", json_path=f"{json_path}.sentences")
            relative = Path(entry.get("filepath") or "") / field(path, entry, "filename", json_path, str)
        except DatasetFormatError as error:
            raise_or_warn(error, strict)
            continue
        records.append(CaptionRecord(str(images_dir / relative), captions, entry_split, "image"))
    return select_split(records, split)


def load_karpathy_splits(path, restval_as_train=True, strict=True):
    """Split of every image in a Karpathy file, keyed both by `cocoid` and by file name.

    Returns:
        (splits_by_id, splits_by_file_name): two dicts of image key -> split.
    """
    path = Path(path)
    by_id, by_name = {}, {}
    for json_path, entry in _entries(path):
        try:
            entry_split = _split_of(path, entry, json_path, restval_as_train)
            by_name[field(path, entry, "filename", json_path, str)] = entry_split
        except DatasetFormatError as error:
            raise_or_warn(error, strict)
            continue
        if isinstance(entry.get("cocoid"), int):
            by_id[entry["cocoid"]] = entry_split
    return by_id, by_name


def _entries(path):
    document = load_json(path)
    images = field(path, document, "images", "", list)
    for index, entry in enumerate(images):
        yield f"images[{index}]", entry


def _split_of(path, entry, json_path, restval_as_train):
    split = field(path, entry, "split", json_path, str)
    if split not in KARPATHY_SPLITS:
        raise DatasetFormatError(
            path, f"unknown split {split!r}; expected one of {KARPATHY_SPLITS}", json_path=f"{json_path}.split"
        )
    return "train" if split == "restval" and restval_as_train else split
