"""`ClipCap`: the captioning model with its tokenizer and defaults; save_pretrained / from_pretrained."""

import dataclasses
import json
import tempfile
from pathlib import Path

import keras
import numpy as np

import custom_architectures.lstm_captioner  # noqa: F401 - registers the LSTM baseline's classes for load_directory
from custom_architectures.clipcap import ClipCapModel
from image_captioning import hub
from image_captioning.hub import CLIP_GPT_CAPTIONING
from image_captioning.generation.config import resolve_generation_preset
from image_captioning.tokenizer import END_OF_TEXT, GPT2_ASSETS, GPT2Detokenizer, load_tokenizer, save_tokenizer_files

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
FORMAT_VERSION = 2


class ClipCap:
    """CLIP -> mapper -> GPT-2 captioner, as loaded from a model folder or a known name.

    Args:
        model: a `ClipCapModel`.
        generation: this model's decoding options (strategy, num_beams, max_length, stop_tokens, ...);
            what it leaves out comes from `generation.GenerationConfig`'s defaults. `{"preset": name}`
            takes the fields of `generation.GENERATION_PRESETS[name]` (e.g. "clip-gpt-captioning").
        tokenizer_dir: folder with the GPT-2 `vocab.json` and `merges.txt`.
        video_sampling: this model's default `media.FrameSampling` fields for videos (e.g. `{"num_frames": 1}`
            for a model trained on each video's middle frame); None: `FrameSampling()`'s defaults.
        compute_dtype: None (default): captions from the model as saved (float32, the parity-tested
            path); "bfloat16": from bfloat16 copies of its weights (`CaptionGenerator`'s
            `compute_dtype`: faster on CPUs with AVX512-BF16 or AMX, and some captions differ).

    Example:
    ```python
    captioner = ClipCap.from_pretrained("clipcap-coco")      # or a folder
    results = captioner.predict(["photos/", "clip.mp4"], strategy="beam", output_dir="out/")
    print(results[0].caption.text)
    captioner.save_pretrained("pretrained_models/my-copy")   # from_pretrained's exact inverse
    captioner.push_to_hub("me/my-clipcap")                   # then ClipCap.from_pretrained("hf://me/my-clipcap")
    ```
    """

    def __init__(self, model, generation=None, tokenizer_dir=GPT2_ASSETS, video_sampling=None, compute_dtype=None):
        self.model = model
        self.compute_dtype = compute_dtype
        self.generation = resolve_generation_preset(generation)
        self.video_sampling = dict(video_sampling or {})
        self.tokenizer_dir = Path(tokenizer_dir)
        self._tokenizer = None
        self._detokenizer = None
        self._generator = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.tokenizer_dir)
        return self._tokenizer

    @property
    def detokenizer(self):
        """`GPT2Detokenizer` over this model's vocabulary: captions are decoded without building the tokenizer."""
        if self._detokenizer is None:
            self._detokenizer = GPT2Detokenizer(self.tokenizer_dir)
        return self._detokenizer

    @property
    def generator(self):
        """The compiled `CaptionGenerator`, built on first use and kept (its traces are reused)."""
        if self._generator is None:
            from image_captioning.generation import CaptionGenerator

            self._generator = CaptionGenerator(self.model, detokenize=self.caption_text, compute_dtype=self.compute_dtype)
        return self._generator

    @property
    def resolution(self):
        return self.model.image_encoder.input_resolution

    def token_id(self, token):
        """A stop token given as an id or as text that is exactly one GPT-2 token ("." or "<|endoftext|>")."""
        if isinstance(token, (int, np.integer)):
            return int(token)
        ids = [self.detokenizer.token_id(END_OF_TEXT)] if token == END_OF_TEXT else self.tokenizer([token])[0]
        if len(ids) != 1:
            raise ValueError(f"Stop token {token!r} is {len(ids)} GPT-2 tokens; give one token (e.g. '.') or its id.")
        return int(ids[0])

    def generation_options(self, **overrides):
        options = {**self.generation, **{k: v for k, v in overrides.items() if v is not None}}
        if "stop_tokens" in options:
            options["stop_tokens"] = tuple(self.token_id(token) for token in options["stop_tokens"])
        return options

    def caption_text(self, token_ids):
        return self.detokenizer(token_ids).strip()  # <|endoftext|> decodes to nothing

    def encode_images(self, images):
        """CLIP embeddings (N, clip_dim) of CLIP-preprocessed images (N, R, R, 3)."""
        return self.generator.encode_images(images)

    def caption_embeddings(self, clip_embeddings, frame_mask=None, **generation):
        """Captions (best first) for each CLIP embedding, or for a temporal model also each clip (N, frames, E)
        with its `frame_mask` (N, frames); `generation` overrides the model's defaults."""
        return self.generator.generate(clip_embeddings, frame_mask=frame_mask, **self.generation_options(**generation))

    def predict(self, inputs, *, sampling=None, batch_size=32, output_dir=None, video_formats=("srt", "vtt", "json"),
                overlay=False, gallery=None, progress=False, stats=None, **generation):
        """Captions images and videos; returns one result per input, in order (errors recorded, not raised).

        Args:
            inputs: a path, folder, glob, video, NumPy array or PIL image, or a list mixing them.
            sampling: `media.FrameSampling` for videos (default: the model's `video_sampling`, else 8 uniform
                frames). A temporal model captions the whole video from its sampled frames in order, and in
                "scenes" mode each shot from `frames_per_shot` of its frames (when left at 1: its clip length,
                analysing frames often enough to fill it).
            batch_size: frames per CLIP/generation batch.
            output_dir: when given, write SRT/VTT/JSON per video and captions.jsonl for images there.
            video_formats, overlay, gallery: see `outputs.ResultWriter`.
            progress: show a tqdm bar (items and frames per second).
            stats: a `PipelineStats` to fill with per-stage busy time.
            **generation: decoding options (strategy, num_beams, temperature, top_k, top_p,
                num_return_sequences, max_length, stop_tokens, seed).
        """
        from image_captioning.media.frame_sampling import FrameSampling
        from image_captioning.outputs.writer import ResultWriter
        from image_captioning.pipeline.captioning_pipeline import run_pipeline

        if isinstance(inputs, (str, Path)) or not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        options = self.generation_options(**generation)
        caption_fn = lambda embeddings, frame_mask=None: self.caption_embeddings(embeddings, frame_mask, **options)
        sampling = sampling or FrameSampling(**self.video_sampling)
        clip_frames = self.model.max_frames
        if clip_frames is not None and sampling.mode == "scenes" and sampling.frames_per_shot == 1:
            # Enough analysed frames that a shot of min_scene_duration still fills a whole clip.
            analysis_fps = max(sampling.scene_analysis_fps, 2 * clip_frames / max(sampling.min_scene_duration, 0.1))
            sampling = dataclasses.replace(sampling, frames_per_shot=clip_frames, scene_analysis_fps=analysis_fps)
        writer = ResultWriter(output_dir, video_formats=video_formats, overlay=overlay, gallery=gallery) if output_dir else None
        try:
            results = run_pipeline(inputs, self.encode_images, caption_fn, resolution=self.resolution, batch_size=batch_size,
                                   on_result=writer, progress=progress, stats=stats, sampling=sampling,
                                   clip_frames=clip_frames)
            return list(results)
        finally:
            if writer is not None:
                writer.close()

    def export(self, path, format="tf_saved_model", **options):
        """Writes a serving artifact (see `image_captioning.export`): `tf_saved_model` is one SavedModel
        whose `serving_default` takes encoded images and returns captions; `options` fix decoding
        (strategy "greedy" or "beam", num_beams, max_length, ...)."""
        from image_captioning.export import export_model

        return export_model(self, path, format=format, **options)

    def save_pretrained(self, directory):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        model_config = keras.saving.serialize_keras_object(self.model)
        model_config.pop("compile_config", None)  # an inference folder carries no optimizer or loss
        config = {"format_version": FORMAT_VERSION, "model": model_config, "generation": self.generation}
        if self.video_sampling:
            config["video_sampling"] = self.video_sampling
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        model = self.model
        if getattr(model, "optimizer", None) is not None:  # save_weights would also write the optimizer's slots
            model = keras.saving.deserialize_keras_object(model_config)
            model.set_weights(self.model.get_weights())
        model.save_weights(directory / WEIGHTS_FILE)
        save_tokenizer_files(directory, self.tokenizer_dir)
        return directory

    @classmethod
    def from_pretrained(cls, name_or_dir, cache_dir=None, clipcap_checkpoint=None, clip_checkpoint=None,
                        compute_dtype=None):
        """Loads a saved folder, an `hf://` Hub repository, or a known name (converted once, then cached).

        Args:
            name_or_dir: a folder written by `save_pretrained`, `hf://owner/repo[@revision]` (downloaded and cached
                by `huggingface_hub`; `HF_HUB_OFFLINE=1` loads from its cache), or a name in `hub.PRETRAINED_MODELS`.
            cache_dir: where named models are converted to and official files downloaded to (default
                `hub.cache_dir()`).
            clipcap_checkpoint, clip_checkpoint: local official files to use instead of downloading.
            compute_dtype: see the class's Args (None: float32).
        """
        captioner = cls._load(name_or_dir, cache_dir, clipcap_checkpoint, clip_checkpoint)
        captioner.compute_dtype = compute_dtype
        return captioner

    @classmethod
    def _load(cls, name_or_dir, cache_dir, clipcap_checkpoint, clip_checkpoint):
        if isinstance(name_or_dir, str) and name_or_dir.startswith(hub.HF_PREFIX):
            from image_captioning.hub import hf_hub

            return cls.load_directory(hf_hub.download_model(name_or_dir))
        directory = Path(name_or_dir)
        if (directory / CONFIG_FILE).is_file():
            return cls.load_directory(directory)
        if str(name_or_dir) not in hub.PRETRAINED_MODELS:
            raise FileNotFoundError(
                f"{name_or_dir} is neither a model folder (no {CONFIG_FILE}), hf://owner/repo, nor a known name "
                f"({', '.join(sorted(hub.PRETRAINED_MODELS))})."
            )
        cache_dir = hub.cache_dir() if cache_dir is None else Path(cache_dir)
        if (local := hub.local_model_dir(str(name_or_dir), cache_dir)) is not None:
            return cls.load_directory(local)
        return convert_named_model(hub.load_hparams(str(name_or_dir)), cache_dir, clipcap_checkpoint, clip_checkpoint)

    def push_to_hub(self, repo_id, *, revision=None, private=None, token=None, commit_message="Upload ClipCap model"):
        """Uploads `save_pretrained`'s folder to the Hub repository `repo_id` (created if missing); returns the
        commit's `huggingface_hub.CommitInfo`. Load it back with `from_pretrained(f"hf://{repo_id}")`."""
        from image_captioning.hub import hf_hub

        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder)
            return hf_hub.upload_model_folder(folder, repo_id, revision=revision, private=private, token=token,
                                              commit_message=commit_message)

    @classmethod
    def from_official(cls, clipcap_checkpoint, clip_checkpoint, normalize_prefix=None, generation=None):
        """Converts an official ClipCap `.pt` and the OpenAI CLIP file it was trained with (see `converters.official`)."""
        from image_captioning.converters.official import convert_official_clipcap

        return cls(convert_official_clipcap(clipcap_checkpoint, clip_checkpoint, normalize_prefix), generation)

    @classmethod
    def from_clip_gpt_captioning(cls, checkpoint, clip_file=None, gpt2_file=None, generation=None):
        """Converts a jmisilo/clip-gpt-captioning checkpoint (see `converters.clip_gpt_captioning`); Hugging
        Face CLIP / GPT-2 files are needed only for parts the checkpoint lacks. Decodes with the upstream
        recipe, the "clip-gpt-captioning" generation preset, unless `generation` says otherwise."""
        from image_captioning.converters.clip_gpt_captioning import convert_clip_gpt_captioning

        model, _ = convert_clip_gpt_captioning(checkpoint, clip_file, gpt2_file)
        return cls(model, generation or {"preset": CLIP_GPT_CAPTIONING})

    @classmethod
    def load_directory(cls, directory):
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        if config.get("format_version") == 1:
            from image_captioning.converters.config_migration import migrate_model_config

            config = migrate_model_config(config)
        if config.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{directory / CONFIG_FILE} has format_version {config.get('format_version')}, expected {FORMAT_VERSION}.")
        model = keras.saving.deserialize_keras_object(config["model"])
        model.load_weights(directory / WEIGHTS_FILE)
        return cls(model, config["generation"], tokenizer_dir=directory, video_sampling=config.get("video_sampling"))


def convert_named_model(hparams, cache_dir, clipcap_checkpoint=None, clip_checkpoint=None):
    """Fetches (or takes locally) the official files named in `hparams`, converts, caches, returns ClipCap.

    `clipcap_checkpoint` is the local copy of the model's own file (a ClipCap `.pt`, or for
    `"format": "clip-gpt-captioning"` its `checkpoint`), `clip_checkpoint` that of the OpenAI CLIP file.
    """
    if "clipcap_checkpoint" not in hparams and "checkpoint" not in hparams:
        raise FileNotFoundError(
            f"{hparams['name']} is a model this project trains, and its folder is missing from the cache. "
            f"Reproduce it with: {hparams['reproduce']}"
        )
    if hparams.get("format") == CLIP_GPT_CAPTIONING:
        checkpoint = hub.fetch_official_file(hparams["checkpoint"], cache_dir, clipcap_checkpoint)
        captioner = ClipCap.from_clip_gpt_captioning(checkpoint, generation=hparams["generation"])
    else:
        clipcap_file = hub.fetch_official_file(hparams["clipcap_checkpoint"], cache_dir, clipcap_checkpoint)
        clip_file = hub.fetch_official_file(hparams["clip_checkpoint"], cache_dir, clip_checkpoint)
        captioner = ClipCap.from_official(
            clipcap_file, clip_file, normalize_prefix=hparams["normalize_prefix"], generation=hparams["generation"]
        )
    captioner.save_pretrained(Path(cache_dir) / hparams["name"])
    return captioner


__all__ = ["ClipCap", "ClipCapModel"]
