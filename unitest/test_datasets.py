"""Dataset readers on small files written in each real format, including malformed ones."""

import json

import pytest

from image_captioning.datasets import READERS, CaptionRecord, DatasetFormatError, read_dataset


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- Flickr


KAGGLE_CAPTIONS = """image,caption
1000268201_693b08cb0e.jpg,A child in a pink dress is climbing up a set of stairs in an entry way .
1000268201_693b08cb0e.jpg,A girl going into a wooden building .
1001773457_577c3a7d70.jpg,"A black dog and a spotted dog are fighting, in the road"
1001773457_577c3a7d70.jpg,"A dog says ""woof"" , loudly"
"""

FLICKR30K_RESULTS = """image_name| comment_number| comment
1000092795.jpg| 0| Two young guys with shaggy hair look at their hands while hanging out in the yard .
1000092795.jpg| 1| Two young , White males are outside near many bushes .
10002456.jpg| 0| Several men in hard hats are operating a giant pulley system | with pipes .
"""


def test_flickr_comma_form_groups_captions_and_keeps_commas_and_quotes(tmp_path):
    path = write(tmp_path / "captions.txt", KAGGLE_CAPTIONS)
    records = read_dataset(path, "flickr", images_dir=tmp_path / "Images")
    assert [len(record.captions) for record in records] == [2, 2]
    assert records[0].media_path == str(tmp_path / "Images" / "1000268201_693b08cb0e.jpg")
    assert records[1].captions == [
        "A black dog and a spotted dog are fighting, in the road",
        'A dog says "woof" , loudly',
    ]
    assert records[0].split is None and records[0].media_kind == "image"


def test_flickr_pipe_form_with_spaces_after_pipes(tmp_path):
    path = write(tmp_path / "results.csv", FLICKR30K_RESULTS)
    records = read_dataset(path, "flickr30k", split="train")
    assert [record.media_path for record in records] == [
        str(tmp_path / "1000092795.jpg"),
        str(tmp_path / "10002456.jpg"),
    ]
    assert records[0].captions[1] == "Two young , White males are outside near many bushes ."
    assert records[1].captions == ["Several men in hard hats are operating a giant pulley system | with pipes ."]
    assert {record.split for record in records} == {"train"}


def test_flickr8k_token_form(tmp_path):
    path = write(tmp_path / "Flickr8k.token.txt", "a.jpg#0\tA dog runs .\na.jpg#1\tA dog is running .\nb.jpg#0\tA cat .\n")
    records = read_dataset(path, "flickr8k")
    assert [(r.media_path.rsplit("/", 1)[1], len(r.captions)) for r in records] == [("a.jpg", 2), ("b.jpg", 1)]


@pytest.mark.parametrize(
    "text, line, expected",
    [
        ("image,caption\na.jpg,A dog .\nb.jpg\n", 3, "expected 2 columns"),
        ("image,caption\na.jpg,A dog .\nb.jpg,A dog, running\n", 3, "expected 2 columns"),
        ("image,caption\na.jpg,A dog .\n\nb.jpg,   \n", 4, "empty caption"),
        ("image,caption\na.jpg,\"A dog\non two lines\"\nb.jpg,x,y\n", 4, "expected 2 columns"),
        ("image_name| comment_number| comment\na.jpg| 0| A dog .\nb.jpg| 4 A dog runs .\n", 3, "expected 3 pipe-separated"),
        ("image_name| comment_number| comment\na.jpg| zero| A dog .\n", 2, "comment_number must be an integer"),
        ("photo;text\na.jpg;A dog\n", 1, "unrecognised first line"),
    ],
)
def test_flickr_malformed_rows_name_file_and_line(tmp_path, text, line, expected):
    path = write(tmp_path / "captions.txt", text)
    with pytest.raises(DatasetFormatError, match=expected) as caught:
        read_dataset(path, "flickr")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_flickr_non_strict_skips_bad_rows_with_a_warning(tmp_path):
    path = write(tmp_path / "results.csv", "image_name| comment_number| comment\na.jpg| 0| A dog .\nb.jpg| 4 A dog .\n")
    with pytest.warns(UserWarning, match=r"results.csv:3"):
        records = read_dataset(path, "flickr", strict=False)
    assert [record.captions for record in records] == [["A dog ."]]


# ---------------------------------------------------------------- COCO and Karpathy


def coco_document():
    return {
        "info": {},
        "images": [
            {"id": 391895, "file_name": "COCO_val2014_000000391895.jpg", "height": 360},
            {"id": 522418, "file_name": "COCO_val2014_000000522418.jpg"},
            {"id": 7, "file_name": "COCO_val2014_000000000007.jpg"},
        ],
        "annotations": [
            {"id": 1, "image_id": 391895, "caption": "A man with a red helmet on a small moped."},
            {"id": 2, "image_id": 522418, "caption": "A woman wearing a net cutting a cake."},
            {"id": 3, "image_id": 391895, "caption": "Man riding a motor bike on a dirt road.\n"},
        ],
    }


def karpathy_document():
    def entry(cocoid, name, split):
        return {"filepath": "val2014", "filename": name, "cocoid": cocoid, "split": split,
                "sentences": [{"raw": f"raw caption of {cocoid}", "tokens": []}]}

    return {"dataset": "coco", "images": [
        entry(391895, "COCO_val2014_000000391895.jpg", "test"),
        entry(522418, "COCO_val2014_000000522418.jpg", "restval"),
        entry(99, "COCO_val2014_000000000099.jpg", "val"),
    ]}


def test_coco_groups_captions_and_labels_split(tmp_path):
    path = write(tmp_path / "captions_val2014.json", json.dumps(coco_document()))
    records = read_dataset(path, "coco", images_dir=tmp_path / "val2014", split="val")
    assert [record.media_path for record in records] == [
        str(tmp_path / "val2014" / "COCO_val2014_000000391895.jpg"),
        str(tmp_path / "val2014" / "COCO_val2014_000000522418.jpg"),
    ]  # image 7 has no caption
    assert records[0].captions == ["A man with a red helmet on a small moped.", "Man riding a motor bike on a dirt road."]
    assert {record.split for record in records} == {"val"}


def test_coco_with_karpathy_split_file(tmp_path):
    path = write(tmp_path / "captions_val2014.json", json.dumps(coco_document()))
    karpathy = write(tmp_path / "dataset_coco.json", json.dumps(karpathy_document()))
    records = read_dataset(path, "coco", karpathy_split=karpathy)
    assert [record.split for record in records] == ["test", "train"]  # restval counts as train
    test_only = read_dataset(path, "coco", karpathy_split=karpathy, split="test")
    assert [record.captions[0] for record in test_only] == ["A man with a red helmet on a small moped."]
    kept_restval = read_dataset(path, "coco", karpathy_split=karpathy, restval_as_train=False)
    assert [record.split for record in kept_restval] == ["test", "restval"]


def test_karpathy_file_alone(tmp_path):
    path = write(tmp_path / "dataset_coco.json", json.dumps(karpathy_document()))
    records = read_dataset(path, "karpathy", images_dir=tmp_path / "coco", split="val")
    assert records == [CaptionRecord(str(tmp_path / "coco" / "val2014" / "COCO_val2014_000000000099.jpg"),
                                     ["raw caption of 99"], "val", "image")]


@pytest.mark.parametrize(
    "edit, json_path, expected",
    [
        (lambda doc: doc["annotations"][2].update(image_id=12345), "annotations[2].image_id", "unknown image id 12345"),
        (lambda doc: doc["annotations"][1].update(caption="  "), "annotations[1].caption", "empty caption"),
        (lambda doc: doc["annotations"][0].pop("caption"), "annotations[0].caption", "missing key 'caption'"),
        (lambda doc: doc["images"][1].update(id="522418"), "images[1].id", "expected an integer"),
        (lambda doc: doc.pop("annotations"), "annotations", "missing key 'annotations'"),
    ],
)
def test_coco_malformed_entries_name_json_path(tmp_path, edit, json_path, expected):
    document = coco_document()
    edit(document)
    path = write(tmp_path / "captions.json", json.dumps(document))
    with pytest.raises(DatasetFormatError, match=expected) as caught:
        read_dataset(path, "coco")
    assert caught.value.json_path == json_path
    assert str(caught.value).startswith(f"{path}: {json_path}: ")


def test_invalid_json_names_line(tmp_path):
    path = write(tmp_path / "captions.json", '{"images": [\n  {"id": 1, "file_name": "a.jpg"},\n  oops\n]}')
    with pytest.raises(DatasetFormatError, match="invalid JSON") as caught:
        read_dataset(path, "coco")
    assert caught.value.line == 3


def test_karpathy_unknown_split_is_an_error(tmp_path):
    document = karpathy_document()
    document["images"][2]["split"] = "holdout"
    path = write(tmp_path / "dataset_coco.json", json.dumps(document))
    with pytest.raises(DatasetFormatError, match="unknown split 'holdout'") as caught:
        read_dataset(path, "karpathy")
    assert caught.value.json_path == "images[2].split"


# ---------------------------------------------------------------- MSR-VTT


def msrvtt_document():
    return {
        "info": {"year": 2016},
        "videos": [
            {"category": 9, "url": "https://www.youtube.com/watch?v=x", "video_id": "video0",
             "start time": 137.72, "end time": 149.44, "split": "train", "id": 0},
            {"category": 16, "video_id": "video1", "split": "validate", "id": 1},
            {"category": 1, "video_id": "video2", "split": "test", "id": 2},
        ],
        "sentences": [
            {"caption": "a car is shown", "video_id": "video0", "sen_id": 0},
            {"caption": "a man is singing", "video_id": "video1", "sen_id": 1},
            {"caption": "a red car drives on a road", "video_id": "video0", "sen_id": 2},
            {"caption": "people are talking", "video_id": "video2", "sen_id": 3},
        ],
    }


def test_msrvtt_videos_and_splits(tmp_path):
    path = write(tmp_path / "train_val_videodatainfo.json", json.dumps(msrvtt_document()))
    records = read_dataset(path, "msrvtt", images_dir=tmp_path / "TrainValVideo")
    assert records[0] == CaptionRecord(str(tmp_path / "TrainValVideo" / "video0.mp4"),
                                       ["a car is shown", "a red car drives on a road"], "train", "video")
    assert [record.split for record in records] == ["train", "val", "test"]
    assert [r.media_path for r in read_dataset(path, "msrvtt", split="validate")] == [str(tmp_path / "video1.mp4")]


def test_msrvtt_unknown_video_id(tmp_path):
    document = msrvtt_document()
    document["sentences"][3]["video_id"] = "video9"
    path = write(tmp_path / "msrvtt.json", json.dumps(document))
    with pytest.raises(DatasetFormatError, match="unknown video id 'video9'") as caught:
        read_dataset(path, "msrvtt")
    assert caught.value.json_path == "sentences[3].video_id"


def test_msrvtt_train_and_evaluate_end_to_end(tmp_path, shared_data):
    """The real annotation layout (videos + sentences by video_id) over real MPEG-4 files, through the
    `train` and `evaluate` commands."""
    from image_captioning.cli.main import main

    videos_dir = tmp_path / "TrainValVideo"
    videos_dir.mkdir()
    splits = {"video0": "train", "video1": "train", "video2": "validate", "video3": "test"}
    for video_id in splits:
        (videos_dir / f"{video_id}.mp4").symlink_to(shared_data / "videos" / "vtest.mp4")
    sentences = ["people walk along a street", "pedestrians cross a square", "a man walks past a shop",
                 "people are walking outside", "a woman carries a bag down the street"]
    document = {
        "info": {"year": 2016},
        "videos": [{"video_id": video_id, "split": split, "id": index} for index, (video_id, split) in enumerate(splits.items())],
        "sentences": [{"caption": caption, "video_id": video_id, "sen_id": 5 * index + number}
                      for index, video_id in enumerate(splits) for number, caption in enumerate(sentences)],
    }
    annotations = write(tmp_path / "train_val_videodatainfo.json", json.dumps(document))
    source = ["--data", str(annotations), "--format", "msrvtt", "--images-dir", str(videos_dir)]
    assert main(["train", "--tiny", *source, "--out", str(tmp_path / "run"), "--set", "train.epochs=1",
                 "--set", "train.jit_compile=false", "--set", "train.video_frames=2"]) == 0
    manifest = json.loads((tmp_path / "run" / "embeddings-train" / "manifest.json").read_text())
    assert manifest["paths"] == [str(videos_dir / "video0.mp4"), str(videos_dir / "video1.mp4")]
    assert (tmp_path / "run" / "embeddings-val" / "manifest.json").is_file()
    assert main(["evaluate", "--model", str(tmp_path / "run" / "model"), *source, "--split", "test",
                 "--out", str(tmp_path / "eval"), "--max-length", "6"]) == 0
    predictions = json.loads((tmp_path / "eval" / "predictions.json").read_text())
    assert list(predictions) == [str(videos_dir / "video3.mp4")]
    table = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert {"Bleu_4", "METEOR", "CIDEr"} <= set(table["model"]) and "colour acc" not in table["model"]


# ---------------------------------------------------------------- folder + CSV


def test_folder_csv_with_splits_and_videos(tmp_path):
    path = write(tmp_path / "captions.csv", (
        "file,caption,split\n"
        "images/a.png,a red circle,train\n"
        "images/a.png,\"a red circle, on the left\",train\n"
        "videos/b.mp4,a blue square moves right,val\n"
        "images/c.png,a green star,test\n"
    ))
    records = read_dataset(path, "folder_csv")
    assert records[0] == CaptionRecord(str(tmp_path / "images" / "a.png"),
                                       ["a red circle", "a red circle, on the left"], "train", "image")
    assert records[1].media_kind == "video"
    assert [r.media_path for r in read_dataset(path, "folder_csv", split="val")] == [str(tmp_path / "videos" / "b.mp4")]


def test_folder_csv_without_split_column_labels_records(tmp_path):
    path = write(tmp_path / "captions.csv", "caption,file\na dog,dog.jpg\n")
    assert read_dataset(path, "folder_csv", split="test") == [CaptionRecord(str(tmp_path / "dog.jpg"), ["a dog"], "test")]


@pytest.mark.parametrize(
    "text, line, expected",
    [
        ("file,caption\na.png,a dog\nb.png\n", 3, "expected 2 columns"),
        ("file,caption\na.png,\n", 2, "empty caption"),
        ("file,caption\nnotes.txt,a dog\n", 2, "neither an image nor a video"),
        ("file,caption,split\na.png,a dog,train\na.png,a cat,test\n", 3, "expected one split per file"),
        ("image,text\na.png,a dog\n", 1, "expected `file,caption`"),
    ],
)
def test_folder_csv_malformed_rows(tmp_path, text, line, expected):
    path = write(tmp_path / "captions.csv", text)
    with pytest.raises(DatasetFormatError, match=expected) as caught:
        read_dataset(path, "folder_csv")
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_registry_is_explicit_and_unknown_format_is_rejected(tmp_path):
    assert {"flickr", "coco", "karpathy", "msrvtt", "folder_csv"} <= set(READERS)
    with pytest.raises(ValueError, match="unknown dataset format 'imagenet'"):
        read_dataset(tmp_path / "x.json", "imagenet")
