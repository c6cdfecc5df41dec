"""Reader for COCO captions JSON (`captions_train2014.json`, `captions_val2017.json`, ...).

Layout: {"images": [{"id": 1, "file_name": "x.jpg"}], "annotations": [{"image_id": 1,
"caption": "..."}]}. Splits come from a Karpathy split file when one is given.
"""

from pathlib import Path

from image_captioning.datasets.json_fields import field, group_captions, load_json
from image_captioning.datasets.karpathy import load_karpathy_splits
from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, raise_or_warn, select_split


def read_coco_captions(path, images_dir=None, split=None, karpathy_split=None, restval_as_train=True, strict=True):
    """Reads COCO caption annotations into one CaptionRecord per captioned image.

    Args:
        path: the COCO captions JSON.
        images_dir: folder holding the `file_name`s (e.g. `coco/train2014`); defaults to the
            JSON's folder.
        split: with `karpathy_split`, keep only this split; without it, the label given to
            every record (a COCO file is itself one split).
        karpathy_split: optional `dataset_coco.json`; images are matched by `cocoid`, then by
            file name. Images it does not list get split None.
        restval_as_train: see `read_karpathy_json`.
        strict: raise on a malformed entry (default); if False, warn and skip it.

    Example:
    ```python
    records = read_coco_captions(
        "coco/annotations/captions_val2014.json", images_dir="coco/val2014",
        karpathy_split="coco/dataset_coco.json", split="test")
    ```
    """
    path = Path(path)
    images_dir = Path(images_dir) if images_dir is not None else path.parent
    document = load_json(path)
    file_names = _file_names_by_id(path, document, strict)

    captions_by_id = group_captions(path, document, "annotations", "image_id", int, file_names, "images", strict)

    if karpathy_split is None:
        splits = {image_id: split for image_id in captions_by_id}
    else:
        by_id, by_name = load_karpathy_splits(karpathy_split, restval_as_train, strict)
        splits = {
            image_id: by_id.get(image_id, by_name.get(Path(file_names[image_id]).name))
            for image_id in captions_by_id
        }
    records = [
        CaptionRecord(str(images_dir / file_names[image_id]), captions, splits[image_id], "image")
        for image_id, captions in captions_by_id.items()
    ]
    return records if karpathy_split is None else select_split(records, split)


def _file_names_by_id(path, document, strict):
    file_names = {}
    for index, image in enumerate(field(path, document, "images", "", list)):
        json_path = f"images[{index}]"
        try:
            image_id = field(path, image, "id", json_path, int)
            if image_id in file_names:
                raise DatasetFormatError(path, f"duplicate image id {image_id}; ids must be unique", json_path=f"{json_path}.id")
            file_names[image_id] = field(path, image, "file_name", json_path, str)
        except DatasetFormatError as error:
            raise_or_warn(error, strict)
    return file_names
