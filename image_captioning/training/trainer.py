"""`train(config, out_dir)`: ClipCap training with Keras `fit`, from a preset dict (see hparams/)."""

import json
from pathlib import Path

import keras
import numpy as np

from custom_architectures.clipcap import build_clipcap_model
from image_captioning.clipcap import ClipCap
from image_captioning.datasets import read_dataset
from image_captioning.datasets.sources import read_split
from image_captioning.tokenizer import END_OF_TEXT, load_tokenizer
from image_captioning.training.caption_loss import CaptionLoss
from image_captioning.training.caption_tokens import tokenize_captions
from image_captioning.training.checkpoints import EpochCheckpoint, restore_checkpoint
from image_captioning.training.distribution import config_for_devices, distribution_scope
from image_captioning.training.embedding_cache import clip_frame_mask, media_frames, precompute_embeddings
from image_captioning.training.loss_curve import write_loss_history
from image_captioning.training.model_families import build_model
from image_captioning.training.train_options import TrainOptions
from image_captioning.training.training_data import CaptionExamples, batch_stream
from image_captioning.training.warmup_schedule import WarmupLinearDecay



def train(config, out_dir, resume=True, stop_after_epochs=None, verbose="auto"):
    """Trains the model a preset describes and saves it to `out_dir/model`; returns the ClipCap.

    `out_dir` also gets `train_config.json`, `checkpoint/` (resumed from when present and `resume`),
    `logs/` (TensorBoard), `loss.csv` and `loss.png`. `stop_after_epochs` ends this run early (the
    learning-rate schedule still spans all epochs), for jobs split over several sessions. The run is
    data-parallel over every local device (see `distribution.distribution_scope`).
    """
    with distribution_scope() as distribution:
        return train_on_current_devices(config_for_devices(config, distribution), out_dir, resume, stop_after_epochs, verbose)


def train_on_current_devices(config, out_dir, resume=True, stop_after_epochs=None, verbose="auto"):
    """`train`'s body: on the distribution in scope, or on the default device outside any."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train_config.json").write_text(json.dumps(config, indent=2))
    options = TrainOptions.from_dict(config["train"])
    keras.utils.set_random_seed(options.seed)
    set_precision(options.mixed_precision)
    model = initial_model(config["model"], options)
    tokenizer = load_tokenizer()
    end_token = tokenizer.token_to_id(END_OF_TEXT) if options.append_end_token else None
    records = {split: load_split(config["data"], out_dir, split) for split in ("train", "val")}
    examples = {
        split: build_examples(model, split_records, tokenizer, options, end_token, out_dir / f"embeddings-{split}")
        for split, split_records in records.items()
        if split_records
    }
    set_trainable(model, options)
    batch_size, epochs = options.batch_size, options.epochs
    steps_per_epoch = len(examples["train"]) // batch_size
    schedule = WarmupLinearDecay(options.learning_rate, options.warmup_steps, steps_per_epoch * epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=options.weight_decay),
        loss=CaptionLoss(model.prefix_length),
        jit_compile=options.jit_compile,  # XLA halves CPU step time here; Keras' "auto" did not pick it
    )
    start_epoch, history = restore_checkpoint(model, out_dir / "checkpoint") if resume else (0, {})
    validation = {}
    if "val" in examples and len(examples["val"]) >= batch_size:
        validation = {
            "validation_data": batch_stream(examples["val"], batch_size, options.seed),
            "validation_steps": len(examples["val"]) // batch_size,
        }
    end_epoch = epochs if stop_after_epochs is None else min(epochs, start_epoch + stop_after_epochs)
    if start_epoch < end_epoch:
        model.fit(
            batch_stream(examples["train"], batch_size, options.seed, start_step=start_epoch * steps_per_epoch),
            epochs=end_epoch,
            initial_epoch=start_epoch,
            steps_per_epoch=steps_per_epoch,
            callbacks=[EpochCheckpoint(out_dir / "checkpoint", history), keras.callbacks.TensorBoard(str(out_dir / "logs"))],
            shuffle=False,  # batch_stream shuffles, deterministically per epoch
            verbose=verbose,
            **validation,
        )
    write_loss_history(history, out_dir / "loss.csv", out_dir / "loss.png")
    generation = dict(config.get("generation", {}))
    if end_token is not None:
        generation.setdefault("stop_tokens", [END_OF_TEXT])
    # Videos are captioned as they were seen in training: `video_frames` uniform frames (1: the middle one).
    captioner = ClipCap(model, generation, video_sampling={"mode": "uniform", "num_frames": options.video_frames})
    captioner.save_pretrained(out_dir / "model")
    return captioner


def set_precision(setting):
    """'auto' trains in mixed bfloat16 on a GPU and float32 elsewhere."""
    if setting == "auto":
        setting = accelerator_available()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if setting else "float32")


def accelerator_available():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return jax.devices()[0].platform != "cpu"
    return False


def initial_model(model_config, options):
    if options.init_from:
        return ClipCap.from_pretrained(options.init_from).model
    if options.init_image_encoder:  # a trained encoder; its saved config replaces the preset's
        from custom_architectures.clip import image_encoder_config

        encoder = trained_image_encoder(options.init_image_encoder)
        model = build_clipcap_model({**model_config, "image_encoder": image_encoder_config(encoder)})
        model.image_encoder.set_weights(encoder.get_weights())
        return model
    return build_model(model_config)


def trained_image_encoder(source):
    """The image encoder of a `train-clip` run folder (clip_config.json), or of a ClipCap model folder or known name."""
    from image_captioning.training.clip_checkpoint import CONFIG_FILE, load_image_encoder

    if (Path(source) / CONFIG_FILE).is_file():
        return load_image_encoder(source)
    try:
        encoder = ClipCap.from_pretrained(source).model.image_encoder
    except FileNotFoundError:
        raise FileNotFoundError(
            f"train.init_image_encoder={source!r} is neither a train-clip run folder (no {CONFIG_FILE}) nor a ClipCap "
            "model folder or known name: give the folder `image-captioning train-clip --out` wrote, or e.g. shapes-demo."
        ) from None
    if encoder is None:
        raise ValueError(f"train.init_image_encoder={source!r} is a ClipCap model without an image encoder.")
    return encoder


SYNTHETIC_MEDIA = {"images": ("image",), "videos": ("video",), "all": ("image", "video")}


def load_split(data_config, out_dir, split):
    """Records of one split; the "synthetic" format first writes the seeded shapes dataset and keeps
    its `media` ("images" by default, "videos" or "all"); others (annotation files, `tfds`) are read by
    `datasets.sources.read_split`."""
    data_config = dict(data_config)
    data_format = data_config.pop("format")
    if data_format == "synthetic":
        from image_captioning.synthetic import generate_scenes
        from image_captioning.synthetic.canonical import wants_canonical_captions, with_canonical_captions

        media = data_config.get("media", "images")
        if media not in SYNTHETIC_MEDIA:
            raise ValueError(f"data.media={media!r}: use one of {', '.join(SYNTHETIC_MEDIA)}.")
        data_dir = out_dir / "data"
        if not (data_dir / "captions.csv").is_file():
            generate_scenes(data_dir, data_config["num_images"], data_config.get("num_videos", 0),
                            seed=data_config.get("seed", 0), image_size=data_config.get("image_size", 96))
        records = [r for r in read_dataset(data_dir / "captions.csv", "folder_csv", split=split)
                   if r.media_kind in SYNTHETIC_MEDIA[media]]
        if wants_canonical_captions(data_config.get("captions", "paraphrases")):
            records = with_canonical_captions(records, data_dir / "scenes.json")
        return records
    return read_split({"format": data_format, **data_config}, split)


def build_examples(model, records, tokenizer, options, end_token, cache_dir):
    """Media rows (embeddings from the frozen encoder, or preprocessed images for joint training)
    and one tokenized row per caption."""
    paths = [record.media_path for record in records]
    resolution = model.image_encoder.input_resolution
    clip_frames, frame_mask = model.max_frames, None
    if clip_frames is not None and options.video_frames > clip_frames:
        raise ValueError(f"train.video_frames={options.video_frames} exceeds the temporal mapper's max_frames={clip_frames}: "
                         "lower train.video_frames or raise model.mapper.max_frames.")
    if options.train_image_encoder:
        if clip_frames is not None:
            raise ValueError("A temporal model trains on cached frame embeddings: set train.train_image_encoder=false.")
        media, media_key = np.stack([one_frame(path, resolution, options.video_frames) for path in paths]), "images"
    else:
        encode = lambda images: keras.ops.convert_to_numpy(model.encode_images(images))
        _, media, errors = precompute_embeddings(paths, encode, resolution, cache_dir, video_frames=options.video_frames,
                                                 clip_frames=clip_frames and options.video_frames)
        if errors:
            print(f"Skipping {len(errors)} unreadable media, e.g. {next(iter(errors.values()))}")
        records = [record for index, record in enumerate(records) if index not in errors]
        media = media[[index for index in range(len(paths)) if index not in errors]]
        media_key = "clip_embedding"
        if clip_frames is not None:
            media, frame_mask = clip_frame_mask(media)
    captions = [caption for record in records for caption in record.captions]
    media_index = np.array([row for row, record in enumerate(records) for _ in record.captions], dtype=np.int32)
    token_ids, labels, padding_mask = tokenize_captions(tokenizer, captions, options.max_caption_length, end_token)
    return CaptionExamples(media.astype(np.float32), media_key, media_index, token_ids, labels, padding_mask, frame_mask)


def one_frame(path, resolution, video_frames):
    """The preprocessed picture an image encoder trained from pixels sees: the image, or a video's middle frame."""
    frames = media_frames(path, resolution, video_frames)
    if len(frames) != 1:
        raise ValueError(f"Training the image encoder from pixels reads one frame per video ({path}): set train.video_frames=1.")
    return frames[0]


def set_trainable(model, options):
    if model.image_encoder is not None:
        model.image_encoder.trainable = options.train_image_encoder
    model.decoder.trainable = options.train_decoder
