"""`train_clip(config, out_dir)`: contrastive (CLIP) pretraining of an image and a text encoder.

The text side uses the GPT-2 tokenizer the project ships (no CLIP BPE is available offline);
its end-of-text id, 50256, is the largest id, which is where `CLIPTextEncoder` reads out.
"""

import json
import time
from pathlib import Path

import keras
import numpy as np

from custom_architectures.clip import CLIPTextEncoder, build_image_encoder
from image_captioning.tokenizer import END_OF_TEXT, load_tokenizer
from image_captioning.training.clip_checkpoint import save_clip
from image_captioning.training.clip_data import pair_examples, pair_stream
from image_captioning.training.clip_init import initialize_from_scratch
from image_captioning.training.contrastive_model import ContrastiveCLIP, SymmetricInfoNCE
from image_captioning.training.loss_curve import write_loss_history
from image_captioning.training.retrieval import retrieval_recall
from image_captioning.training.trainer import load_split, set_precision
from image_captioning.training.warmup_schedule import WarmupLinearDecay


class _History(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))


def build_clip(model_config, seed=0):
    """A ContrastiveCLIP with freshly initialised encoders, from the preset's `model` section."""
    image_encoder = initialize_from_scratch(build_image_encoder(model_config["image_encoder"]), seed)
    text_encoder = initialize_from_scratch(CLIPTextEncoder(**model_config["text_encoder"]), seed + 1)
    return ContrastiveCLIP(image_encoder, text_encoder, initial_scale=model_config.get("initial_scale", 1 / 0.07),
                           max_scale=model_config.get("max_scale", 100.0))


def embed_pairs(clip, examples, batch_size=256):
    """(image embeddings, embeddings of each image's first caption), inference mode."""
    rows = examples.first_caption
    images = [keras.ops.convert_to_numpy(clip.embed_images(examples.images[i : i + batch_size]))
              for i in range(0, len(examples), batch_size)]
    texts = [keras.ops.convert_to_numpy(clip.embed_texts(examples.token_ids[rows[i : i + batch_size]]))
             for i in range(0, len(examples), batch_size)]
    return np.concatenate(images), np.concatenate(texts)


def train_clip(config, out_dir, verbose="auto"):
    """Trains the CLIP pair a preset describes; returns the held-out retrieval recalls.

    `out_dir` gets `train_config.json`, `clip/` (the encoders, for `train.init_image_encoder`),
    `retrieval.json` (image->text and text->image recall@1/@5 on the val split, or test when
    there is no val split), `loss.csv` and `loss.png`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "train_config.json").write_text(json.dumps(config, indent=2))
    options = config["train"]
    keras.utils.set_random_seed(options["seed"])
    set_precision(options.get("mixed_precision", "auto"))
    clip = build_clip(config["model"], options["seed"])
    tokenizer = load_tokenizer()
    end_token = tokenizer.token_to_id(END_OF_TEXT)
    resolution = clip.image_encoder.input_resolution
    started = time.monotonic()
    make = lambda records: pair_examples(records, tokenizer, resolution, options["max_caption_length"], end_token)
    train_examples = make(load_split(config["data"], out_dir, "train"))
    held_out = make(load_split(config["data"], out_dir, "val") or load_split(config["data"], out_dir, "test"))
    batch_size, epochs = options["batch_size"], options["epochs"]
    steps_per_epoch = len(train_examples) // batch_size
    schedule = WarmupLinearDecay(options["learning_rate"], options["warmup_steps"], steps_per_epoch * epochs)
    clip.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=options.get("weight_decay", 0.1)),
                 loss=SymmetricInfoNCE(), jit_compile=options.get("jit_compile", True))
    history = _History()
    stream = pair_stream(train_examples, batch_size, options["seed"], options.get("hard_negative_group"),
                         num_batches=steps_per_epoch * epochs)
    clip.fit(stream, epochs=epochs, steps_per_epoch=steps_per_epoch,
             callbacks=[history], verbose=verbose)
    recall = retrieval_recall(*embed_pairs(clip, held_out), keys=[held_out.captions[row] for row in held_out.first_caption])
    recall.update(held_out_pairs=len(held_out), logit_scale=float(clip.logit_scale), train_seconds=time.monotonic() - started)
    (out_dir / "retrieval.json").write_text(json.dumps(recall, indent=2))
    save_clip(clip, out_dir / "clip", extra={"retrieval": recall})
    write_loss_history(history.history, out_dir / "loss.csv", out_dir / "loss.png")
    return recall
