"""Reader for MSR-VTT annotations (`train_val_videodatainfo.json`, `test_videodatainfo.json`).

Layout: {"videos": [{"video_id": "video0", "split": "train"|"validate"|"test"}],
"sentences": [{"video_id": "video0", "caption": "..."}]}. Video files are
`<video_id>.mp4` in the videos folder.
"""

from pathlib import Path

from image_captioning.datasets.json_fields import field, group_captions, load_json
from image_captioning.datasets.records import CaptionRecord, DatasetFormatError, normalize_split, raise_or_warn, select_split

VIDEO_SUFFIX = ".mp4"


def read_msrvtt(path, images_dir=None, split=None, strict=True):
    """Reads MSR-VTT annotations into one video CaptionRecord per captioned video.

    Args:
        path: the MSR-VTT annotation JSON.
        images_dir: folder holding `<video_id>.mp4` (MSR-VTT's `TrainValVideo/`); defaults to
            the JSON's folder.
        split: keep only this split; "val" and "validate" are the same split. Record splits are
            normalised, so MSR-VTT's "validate" becomes "val".
        strict: raise on a malformed entry (default); if False, warn and skip it.

    Example:
    ```python
    records = read_msrvtt("msrvtt/train_val_videodatainfo.json", "msrvtt/TrainValVideo", split="train")
    ```
    """
    path = Path(path)
    videos_dir = Path(images_dir) if images_dir is not None else path.parent
    document = load_json(path)

    splits = {}
    for index, video in enumerate(field(path, document, "videos", "", list)):
        json_path = f"videos[{index}]"
        try:
            video_id = field(path, video, "video_id", json_path, str)
            splits[video_id] = normalize_split(field(path, video, "split", json_path, str))
        except DatasetFormatError as error:
            raise_or_warn(error, strict)

    captions_by_video = group_captions(path, document, "sentences", "video_id", str, splits, "videos", strict)

    records = [
        CaptionRecord(str(videos_dir / f"{video_id}{VIDEO_SUFFIX}"), captions, splits[video_id], "video")
        for video_id, captions in captions_by_video.items()
    ]
    return select_split(records, split)
