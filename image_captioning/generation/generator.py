"""`CaptionGenerator`: ClipCap captions from CLIP embeddings (or images), batched and compiled."""

import collections
import dataclasses
import time
from typing import Callable, List, Optional

import keras
import numpy as np
from keras import ops

from custom_architectures.clipcap import ClipCapModel
from custom_architectures.lstm_captioner import LSTMDecoder
from image_captioning.generation.compile import compile_function
from image_captioning.generation.config import MAX_STOP_TOKENS, GenerationConfig, GenerationConfigError
from image_captioning.generation.kv_cache import CachedForward, LayerCacheForward, UncachedForward, fused_step_matrices
from image_captioning.generation.recurrent_forward import LSTMStateForward
from image_captioning.generation.search import decode_beams, decode_sequences
from image_captioning.results import Caption

DEFAULT_BUCKETS = (1, 2, 4, 8, 16, 32)
CACHED_FORWARDS = {"per_layer": LayerCacheForward, "stacked": CachedForward}
# Decoders that carry their own memory: with use_cache they decode through it, whatever cache_layout says.
STATE_FORWARDS = {LSTMDecoder: LSTMStateForward}


class CaptionGenerator:
    """Decodes ClipCap captions for a batch of CLIP embeddings, with a compiled loop per shape.

    Inputs are split into chunks of at most `max(batch_buckets)` and each chunk is padded up to
    the next bucket, so one compiled function serves every batch size of a bucket: it is traced
    once per (strategy, bucket, beams or samples, max_length) and never again (see `trace_counts`).
    Sampling parameters, temperature and stop tokens are passed as tensors, so changing them does
    not retrace either.

    Args:
        model: a `ClipCapModel`, or a `(mapper, decoder)` pair.
        detokenize: optional `callable(list_of_ids) -> str` to fill `Caption.text` (else "").
            Each `Caption` has its token ids (stop token included) and its score: the mean
            log-probability per generated token under softmax(logits / temperature), for beam
            search exactly the official `generate_beam` score (sum / sequence length).
        image_encoder: CLIP image encoder for `caption_images` (default: the model's).
        normalize_prefix: L2-normalise CLIP embeddings before the mapper (default: the model's;
            False for a `(mapper, decoder)` pair).
        batch_buckets: the padded batch sizes compiled.
        jit_compile: TensorFlow only: "auto" (XLA from `xla_min_rows` decoded rows on, a plain
            graph below), True or False.
        xla_min_rows: with "auto", the smallest number of decoded rows compiled with XLA. 1
            (default): with the fused step matrices of the per-layer cache, XLA beats a plain graph
            at every batch size measured in issue 19 (greedy batch 1: about 500 vs 790 ms for 20
            tokens of GPT-2 124M on a 2-core AMD EPYC); before them, XLA lost below 4 rows.
        cache_layout: "per_layer" (default): one key and one value cache per layer, updated by a
            lean single-token step with fused q/k/v and output-projection matrices (see
            `LayerCacheForward`); "stacked": `GPT2Decoder.call_with_cache` at every step.
        lm_head_parts: the vocabulary slices the logits product is split into, computed side by
            side (same values). 1 (default): on the loaded 2-core machine of issue 13, 2 slices
            made greedy batch 1 about 6 % slower (three alternating A/B runs, medians 0.92-0.96).
        compute_dtype: None (default) runs the model as it is (float32: the parity-tested path).
            "bfloat16" decodes with bfloat16 copies of the mapper, GPT-2 and CLIP weights: half
            the memory traffic and, on CPUs with AMX / AVX512-BF16 under TensorFlow's oneDNN
            kernels, about 2.5x faster matrix products from 5 rows on (XLA's CPU bfloat16 is
            slow, so this mode uses plain graphs). Captions can differ from float32 ones where
            the top candidates are close.
        defaults: default `GenerationConfig` fields for `generate` (e.g. `stop_tokens=(50256,)`).

    Example:
    ```python
    generator = CaptionGenerator(model, detokenize=tokenizer.detokenize)
    captions = generator.generate(clip_embeddings, strategy="beam")   # list (per input) of lists
    best = [c[0].text for c in captions]
    samples = generator.generate(clip_embeddings, strategy="sample", top_p=0.9,
                                 num_return_sequences=3, seed=0)
    ```
    """

    def __init__(
        self,
        model,
        detokenize: Optional[Callable] = None,
        image_encoder=None,
        normalize_prefix=None,
        batch_buckets=DEFAULT_BUCKETS,
        jit_compile="auto",
        xla_min_rows=1,
        cache_layout="per_layer",
        lm_head_parts=1,
        compute_dtype=None,
        **defaults,
    ):
        if isinstance(model, (tuple, list)):
            mapper, decoder = model
            model_encoder, model_normalize = None, False
        else:
            mapper, decoder = model.mapper, model.decoder
            model_encoder, model_normalize = model.image_encoder, model.normalize_prefix
        image_encoder = image_encoder if image_encoder is not None else model_encoder
        self.compute_dtype = compute_dtype
        if compute_dtype is not None and compute_dtype != decoder.compute_dtype:
            mapper, decoder, image_encoder = (
                cast_layer(layer, compute_dtype) for layer in (mapper, decoder, image_encoder)
            )
            if jit_compile == "auto" and compute_dtype == "bfloat16":
                jit_compile = False
        self.mapper = mapper
        self.decoder = decoder
        self.image_encoder = image_encoder
        self.normalize_prefix = model_normalize if normalize_prefix is None else normalize_prefix
        # The prefix is computed by the model's own `embed_prefix`, in the decoder's dtype.
        self.prefix_model = ClipCapModel(image_encoder, mapper, decoder, normalize_prefix=self.normalize_prefix,
                                         dtype=decoder.dtype_policy)
        self.detokenize = detokenize
        buckets = sorted({int(b) for b in batch_buckets})
        if not buckets or buckets[0] < 1:
            raise ValueError(f"batch_buckets must be positive integers, got {batch_buckets!r}.")
        self.batch_buckets = tuple(buckets)
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}.")
        self.jit_compile = jit_compile
        self.xla_min_rows = xla_min_rows
        if cache_layout not in CACHED_FORWARDS:
            raise ValueError(f"cache_layout must be one of {sorted(CACHED_FORWARDS)}, got {cache_layout!r}.")
        self.cache_layout = cache_layout
        if not isinstance(lm_head_parts, int) or lm_head_parts < 1:
            raise ValueError(f"lm_head_parts must be an integer >= 1, got {lm_head_parts!r}.")
        self.lm_head_parts = lm_head_parts
        self.defaults = GenerationConfig(**defaults)
        self.trace_counts = collections.Counter()
        self.compile_seconds = {}
        self._compiled = {}
        self._forwards = {}
        self._fused = None

    @property
    def prefix_length(self):
        return self.mapper.prefix_length

    def generate(self, clip_embeddings, strategy=None, config=None, frame_mask=None, **options) -> List[List[Caption]]:
        """Captions for each CLIP embedding, in input order, best first.

        Args:
            clip_embeddings: (N, clip_dim) array; for a temporal mapper also clips (N, frames, clip_dim).
            frame_mask: with clips, (N, frames): 1 for real frames, 0 for padding (default: all real).
            strategy: "greedy", "beam" or "sample".
            config: a `GenerationConfig` (its fields can still be overridden by `options`).
            **options: any `GenerationConfig` field: num_beams, temperature, top_k, top_p,
                num_return_sequences, max_length, stop_tokens, seed, use_cache.
        """
        config = self.resolve_config(config, strategy=strategy, **options)
        clip_embeddings = np.asarray(ops.convert_to_numpy(clip_embeddings), dtype="float32")
        frame_mask = self._frame_mask(clip_embeddings, frame_mask)
        total = self.prefix_length + config.max_length
        max_positions = getattr(self.decoder, "max_sequence_length", None)  # an LSTM has no position limit
        if max_positions is not None and total > max_positions:
            raise GenerationConfigError(
                f"prefix_length + max_length = {total} exceeds GPT-2's {self.decoder.max_sequence_length} positions."
            )
        uniforms = None
        if config.strategy == "sample":
            rng = np.random.default_rng(config.seed)
            uniforms = rng.random((len(clip_embeddings), config.rows_per_input, config.max_length), dtype=np.float32)
        results = []
        for start, chunk, bucket in self._chunks(len(clip_embeddings)):
            chunk_uniforms = None if uniforms is None else uniforms[start : start + chunk]
            arrays = self._run_decode(config, clip_embeddings[start : start + chunk], frame_mask[start : start + chunk],
                                      bucket, chunk_uniforms)
            results.extend(self._to_sequences(config, arrays, chunk))
        return results

    def caption_images(self, images, strategy=None, config=None, **options) -> List[List[Caption]]:
        """End to end: preprocessed images (N, H, W, 3) -> CLIP -> mapper -> captions."""
        return self.generate(self.encode_images(images), strategy=strategy, config=config, **options)

    def encode_images(self, images):
        """CLIP embeddings of preprocessed images, compiled per batch bucket."""
        if self.image_encoder is None:
            raise ValueError("This CaptionGenerator has no image encoder: pass one, or call generate() with CLIP embeddings.")
        images = np.asarray(ops.convert_to_numpy(images), dtype="float32")
        outputs = []
        for start, chunk, bucket in self._chunks(len(images)):
            batch = _pad_rows(images[start : start + chunk], bucket)
            key = ("encode", bucket) + batch.shape[1:]
            function = self._function(key, self._encode_fn, [self.image_encoder], jit=self._use_xla(bucket))
            embeddings = self._call(key, function, ops.convert_to_tensor(batch))
            outputs.append(ops.convert_to_numpy(embeddings)[:chunk])
        return np.concatenate(outputs, axis=0)

    def _frame_mask(self, clip_embeddings, frame_mask):
        """Checks the input's shape; the (N, frames) mask of a clip batch, (N, 1) ones for a flat one."""
        width = self.mapper.input_dim
        max_frames = getattr(self.mapper, "max_frames", None)
        if clip_embeddings.ndim == 3 and max_frames is not None and clip_embeddings.shape[2] == width:
            if clip_embeddings.shape[1] > max_frames:
                raise ValueError(f"Clips of {clip_embeddings.shape[1]} frames exceed the mapper's max_frames={max_frames}.")
            if frame_mask is None:
                return np.ones(clip_embeddings.shape[:2], "float32")
            frame_mask = np.asarray(frame_mask, "float32")
            if frame_mask.shape != clip_embeddings.shape[:2]:
                raise ValueError(f"frame_mask has shape {frame_mask.shape}; the clips need {clip_embeddings.shape[:2]}.")
            return frame_mask
        if clip_embeddings.ndim != 2 or clip_embeddings.shape[1] != width:
            clips = f" or clips (batch, frames <= {max_frames}, {width})" if max_frames is not None else ""
            raise ValueError(f"clip_embeddings must have shape (batch, {width}){clips}, got {clip_embeddings.shape}.")
        if frame_mask is not None:
            raise ValueError("frame_mask goes with clips (batch, frames, clip_dim), not with one embedding per row.")
        return np.ones((len(clip_embeddings), 1), "float32")

    def resolve_config(self, config=None, strategy=None, **options):
        config = config or self.defaults
        if strategy is not None:
            options["strategy"] = strategy
        unknown = set(options) - {f.name for f in dataclasses.fields(GenerationConfig)}
        if unknown:
            raise GenerationConfigError(f"Unknown generation options {sorted(unknown)}.")
        return config.replace(**options) if options else config

    def _chunks(self, count):
        if count == 0:
            return
        largest = self.batch_buckets[-1]
        for start in range(0, count, largest):
            chunk = min(largest, count - start)
            bucket = next(b for b in self.batch_buckets if b >= chunk)
            yield start, chunk, bucket

    def _use_xla(self, rows):
        if keras.config.backend() != "tensorflow":
            return True
        if self.jit_compile == "auto":
            return rows >= self.xla_min_rows
        return self.jit_compile

    def _function(self, key, make, layers, jit):
        if key not in self._compiled:
            self._compiled[key] = compile_function(make(key), layers, jit_compile=jit)
        return self._compiled[key]

    def _call(self, key, function, *args):
        first = key not in self.compile_seconds
        started = time.perf_counter()
        outputs = function(*args)
        if first:
            outputs = keras.tree.map_structure(ops.convert_to_numpy, outputs)
            self.compile_seconds[key] = time.perf_counter() - started
        return outputs

    def _encode_fn(self, key):
        def encode(images):
            self.trace_counts[key] += 1  # Python side effect: runs only while tracing
            return ops.cast(self.image_encoder(images), "float32")

        return encode

    def _decode_fn(self, key):
        strategy, bucket, copies, max_length, use_cache = key[1:6]
        forward = self._forward(use_cache, self._use_xla(bucket * copies))

        def decode(clip_embedding, frame_mask, valid, uniforms, temperature, top_k, top_p, stop_tokens):
            self.trace_counts[key] += 1  # Python side effect: runs only while tracing
            clip_frames = len(clip_embedding.shape) == 3
            prefix = self.prefix_model.embed_prefix(clip_embedding, frame_mask if clip_frames else None)
            if strategy == "beam":
                return decode_beams(forward, prefix, valid, temperature, stop_tokens, max_length, copies)
            return decode_sequences(
                forward, prefix, valid, uniforms, temperature, top_k, top_p, stop_tokens, max_length, copies,
                sample=strategy == "sample",
            )

        return decode

    def _forward(self, use_cache, jit):
        """The forward of this decoder for a compiled (XLA) or plain function, made once per kind."""
        if (use_cache, jit) not in self._forwards:
            self._forwards[(use_cache, jit)] = self._make_forward(use_cache, jit)
        return self._forwards[(use_cache, jit)]

    def _make_forward(self, use_cache, jit):
        if not use_cache:
            return UncachedForward(self.decoder)
        if type(self.decoder) in STATE_FORWARDS:
            return STATE_FORWARDS[type(self.decoder)](self.decoder)
        if self.cache_layout == "per_layer":
            if self._fused is None:  # one set of copies, whatever the functions that read it
                self._fused = fused_step_matrices(self.decoder)
            return LayerCacheForward(self.decoder, self.lm_head_parts, fused=self._fused, in_place_update=jit)
        return CACHED_FORWARDS[self.cache_layout](self.decoder, self.lm_head_parts)

    def _run_decode(self, config, clip_embeddings, frame_mask, bucket, uniforms):
        chunk = len(clip_embeddings)
        copies = config.rows_per_input
        key = ("decode", config.strategy, bucket, copies, config.max_length, config.use_cache) + clip_embeddings.shape[1:-1]
        jit = self._use_xla(bucket * copies)
        layers = [self.mapper, self.decoder, self._forward(config.use_cache, jit)]
        function = self._function(key, self._decode_fn, layers, jit=jit)
        valid = np.arange(bucket) < chunk
        if uniforms is None:
            uniforms = np.zeros((bucket * copies, 1), "float32")
        else:
            uniforms = _pad_rows(uniforms, bucket).reshape(bucket * copies, config.max_length)
        stop_tokens = np.full((MAX_STOP_TOKENS,), -1, "int32")
        stop_tokens[: len(config.stop_tokens)] = config.stop_tokens
        vocabulary = self.decoder.vocabulary_size
        args = (
            _pad_rows(clip_embeddings, bucket),
            _pad_rows(frame_mask, bucket),
            valid,
            uniforms,
            np.float32(config.temperature),
            np.int32(min(config.top_k or vocabulary, vocabulary)),
            np.float32(2.0 if config.top_p is None or config.top_p >= 1.0 else config.top_p),
            stop_tokens,
        )
        outputs = self._call(key, function, *[ops.convert_to_tensor(a) for a in args])
        return [ops.convert_to_numpy(o) for o in outputs]

    def _to_sequences(self, config, arrays, chunk):
        token_ids, lengths, scores = arrays
        copies = config.rows_per_input
        token_ids = token_ids.reshape(-1, copies, config.max_length)[:chunk]
        lengths = lengths.reshape(-1, copies)[:chunk]
        scores = scores.reshape(-1, copies)[:chunk]
        results = []
        for ids, lens, scs in zip(token_ids, lengths, scores):
            order = np.argsort(-scs, kind="stable")[: config.returned_sequences]
            sequences = []
            for i in order:
                tokens = [int(t) for t in ids[i, : lens[i]]]
                text = self.detokenize(tokens) if self.detokenize is not None else ""
                sequences.append(Caption(text, float(scs[i]), tokens))
            results.append(sequences)
        return results


def cast_layer(layer, dtype):
    """A copy of a configurable layer whose weights and computations use `dtype` (None stays None)."""
    if layer is None:
        return None
    config = layer.get_config()
    config.pop("dtype", None)
    copy = type(layer).from_config({**config, "dtype": dtype})
    if len(copy.weights) != len(layer.weights):
        raise ValueError(f"Could not copy {type(layer).__name__} as {dtype}: its weights differ in number.")
    for target, source in zip(copy.weights, layer.weights):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(f"Could not copy {type(layer).__name__} as {dtype}: {target.path} {target.shape} != {source.shape}.")
        target.assign(ops.cast(source, target.dtype))
    return copy


def _pad_rows(array, rows):
    """Pads axis 0 to `rows` with copies of the first row (real values: no NaN in padding)."""
    if len(array) == rows:
        return array
    filler = np.repeat(array[:1], rows - len(array), axis=0)
    return np.concatenate([array, filler], axis=0)
