"""`ClipCapModelHandler`: ClipCap as a Beam RunInference `ModelHandler`."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from image_captioning.results import Caption

# Beam shares a loaded model between the threads of one RunInference step, but each step holds its own
# `shared.Shared` key, so the frame and whole-video steps would load a model each: this keeps one per process.
# By default it is one job's (a later job in the same process loads afresh and frees the last); in a warm
# worker pool (`image_captioning.beam.worker_pool`) it stays for every later job on the same model files.
_LOGGER = logging.getLogger(__name__)
_LOADED: dict[tuple, object] = {}
_LOADING = threading.Lock()
_KEEP_ACROSS_JOBS = threading.Event()


def keep_models_across_jobs():
    """From now on, a job in this process reuses the model (and its traced functions) that an earlier job on the
    same model files loaded, instead of loading it afresh. For long-lived processes that run many jobs."""
    _KEEP_ACROSS_JOBS.set()


def _model_files_signature(model: str) -> tuple:
    """(name, size, mtime) of a local model folder's files, so that a model rewritten in place loads afresh."""
    folder = Path(model)
    if not folder.is_dir():
        return ()
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(folder.iterdir()) if f.is_file())


@dataclass
class FrameInference:
    """What RunInference returns for one row: its CLIP embedding and its captions, best first.

    Example:
        >>> FrameInference(np.zeros(4, np.float32), [Caption("a cat", -0.3, [64, 3797])]).captions[0].text
        'a cat'
    """

    embedding: np.ndarray
    captions: list[Caption]


class ClipCapModelHandler(ModelHandler):
    """Loads a ClipCap once per worker process (shared by its threads and both RunInference steps) and captions batches of preprocessed frames or of CLIP embeddings.

    A batch of (R, R, 3) float32 CLIP-preprocessed images goes through the CLIP encoder first; a batch
    of (E,) embeddings (a video's mean frame embedding) goes straight to the caption generator.

    Args:
        model: a model folder or a known name, as `ClipCap.from_pretrained` takes; or a folder on a Beam
            filesystem (`gs://bucket/models/clipcap-coco`), copied to the worker when loaded.
        generation: decoding options (strategy, num_beams, max_length, ...) over the model's defaults.
        min_batch_size, max_batch_size, max_batch_duration_secs: how Beam batches rows (`batch_elements_kwargs`).
        large_model: load one copy per machine and share it between processes.
        model_copies: load exactly this many copies per machine, shared between processes.
        compile_cache: where each worker keeps its compiled XLA programs, so that a restarted or
            second worker skips compiling: True (the default folder, see
            `generation.compile_cache.default_cache_dir`), a folder, or False (off).

    Example:
    ```python
    handler = KeyedModelHandler(ClipCapModelHandler("clipcap-coco", {"strategy": "beam"}, max_batch_size=16))
    keyed_captions = keyed_pixels | RunInference(handler)   # (key, PredictionResult(pixels, FrameInference))
    ```
    """

    def __init__(self, model, generation=None, *, min_batch_size=1, max_batch_size=32, max_batch_duration_secs=None,
                 large_model=False, model_copies=None, compile_cache=True):
        super().__init__(min_batch_size=min_batch_size, max_batch_size=max_batch_size,
                         max_batch_duration_secs=max_batch_duration_secs, large_model=large_model, model_copies=model_copies)
        self.model = str(model)
        self.generation = dict(generation or {})
        self.compile_cache = compile_cache
        self._instance = uuid.uuid4().hex  # survives pickling: the same in both steps and every worker of a job

    def load_model(self):
        key = self._loaded_key()
        with _LOADING:
            if key not in _LOADED:
                _LOADED.clear()
                _LOADED[key] = self._load()
            return _LOADED[key]

    def _loaded_key(self) -> tuple:
        if _KEEP_ACROSS_JOBS.is_set():
            return self.model, _model_files_signature(self.model)
        return (self._instance,)

    def _load(self):
        from image_captioning.beam.model_files import local_model
        from image_captioning.clipcap import ClipCap
        from image_captioning.generation.compile_cache import enable_compilation_cache

        if self.compile_cache:
            enable_compilation_cache(None if self.compile_cache is True else self.compile_cache)

        start = time.perf_counter()
        captioner = ClipCap.from_pretrained(local_model(self.model))
        _ = captioner.generator  # built here, once, so the threads that share this model never race to build it
        _LOGGER.info("loaded the model %s in %.1f s (process %d)", self.model, time.perf_counter() - start, os.getpid())
        return captioner

    def run_inference(self, batch: Sequence[np.ndarray], model, inference_args=None) -> list[PredictionResult]:
        rows = np.stack(batch)
        embeddings = model.encode_images(rows) if rows.ndim == 4 else rows.astype(np.float32)
        captions = model.caption_embeddings(embeddings, **self.generation)
        return [PredictionResult(example, FrameInference(embedding, list(candidates)))
                for example, embedding, candidates in zip(batch, embeddings, captions)]

    def get_num_bytes(self, batch: Sequence[np.ndarray]) -> int:
        return sum(np.asarray(example).nbytes for example in batch)  # Beam's default pickles the whole batch to count
