"""Runs the frozen CLIP image encoder over a dataset once, writing sharded embedding files.

Layout of the cache folder: `manifest.json` (media paths, shard size, embedding width) and
`embeddings-00000.npz`, ... each holding the embeddings of `shard_size` consecutive media and the
errors of media that could not be read. A video's embedding is the mean of its frames' or, for a
temporal model (`clip_frames`), its frames' embeddings in order, NaN rows padding a shorter clip
(`clip_frame_mask` reads them back as the frame mask). A shard is written to a temporary name and renamed when
complete, so after an interruption the next run redoes only the missing shards.
"""

import json
import os
from pathlib import Path

import numpy as np

from image_captioning.media.clip_preprocessing import clip_preprocess_numpy
from image_captioning.media.extensions import is_video_path
from image_captioning.media.frame_sampling import FrameSampling
from image_captioning.media.images import load_image
from image_captioning.media.video_reader import VideoReader
from image_captioning.pipeline.clips import pack_clip
from image_captioning.pipeline.frames import mean_frame_embedding
from image_captioning.results import ItemError

MANIFEST = "manifest.json"


def shard_path(cache_dir, index):
    return Path(cache_dir) / f"embeddings-{index:05d}.npz"


def media_frames(path, resolution, video_frames):
    """Preprocessed frames of one medium: one for an image, `video_frames` uniform ones for a video."""
    if is_video_path(path):
        with VideoReader(path) as reader:
            frames = [frame.image for frame in reader.sample(FrameSampling(num_frames=video_frames))]
    else:
        frames = [load_image(path)]
    return np.stack([clip_preprocess_numpy(frame, resolution) for frame in frames])


def encode_media(paths, encode_fn, resolution, video_frames, batch_size, clip_frames=None):
    """(embeddings (len(paths), E), or clips (len(paths), clip_frames, E), NaN for failures, {index: error})."""
    frames, owners, errors = [], [], {}
    for index, path in enumerate(paths):
        try:
            media = media_frames(path, resolution, video_frames)
        except (ItemError, OSError, ValueError) as error:
            errors[index] = str(error)
            continue
        frames.extend(media)
        owners.extend([index] * len(media))
    embeddings = [np.asarray(encode_fn(np.stack(frames[i : i + batch_size]))) for i in range(0, len(frames), batch_size)]
    embeddings = np.concatenate(embeddings) if embeddings else np.zeros((0, 0), np.float32)
    width = embeddings.shape[1] if len(embeddings) else 0
    shape = (len(paths), width) if clip_frames is None else (len(paths), clip_frames, width)
    result = np.full(shape, np.nan, dtype=np.float32)
    owners = np.asarray(owners)
    for index in set(owners.tolist()):
        if clip_frames is None:
            result[index] = mean_frame_embedding(embeddings[owners == index])
        else:
            clip, mask = pack_clip(embeddings[owners == index], clip_frames)
            result[index] = np.where(mask[:, None] > 0, clip, np.nan)
    return result, errors


def clip_frame_mask(clips):
    """(clips with 0 in their padding rows, frame mask (N, frames) float32) of cached clips (N, frames, E)."""
    mask = np.isfinite(clips).all(axis=-1)
    return np.where(mask[..., None], clips, 0.0).astype(np.float32), mask.astype(np.float32)


def precompute_embeddings(paths, encode_fn, resolution, cache_dir, shard_size=256, video_frames=8, batch_size=32,
                          clip_frames=None):
    """Fills `cache_dir` with the embeddings of `paths` (video: mean over `video_frames` uniform frames, or with
    `clip_frames` those frames in order, as a NaN-padded clip); resumable."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"paths": [str(p) for p in paths], "shard_size": shard_size, "resolution": resolution, "video_frames": video_frames}
    if clip_frames is not None:
        manifest["clip_frames"] = clip_frames
    manifest_file = cache_dir / MANIFEST
    if manifest_file.is_file() and json.loads(manifest_file.read_text()) != manifest:
        raise ValueError(f"{cache_dir} holds embeddings of other media or settings: use an empty folder or delete it.")
    manifest_file.write_text(json.dumps(manifest))
    for shard, start in enumerate(range(0, len(paths), shard_size)):
        target = shard_path(cache_dir, shard)
        if target.is_file():
            continue
        embeddings, errors = encode_media(manifest["paths"][start : start + shard_size], encode_fn, resolution, video_frames,
                                          batch_size, clip_frames)
        partial = target.with_name(target.stem + ".partial.npz")
        np.savez(partial, embeddings=embeddings, errors=json.dumps({str(k + start): v for k, v in errors.items()}))
        os.replace(partial, target)
    return load_embeddings(cache_dir)


def load_embeddings(cache_dir):
    """(paths, embeddings (N, E) with NaN rows for unreadable media, {index: error})."""
    manifest = json.loads((Path(cache_dir) / MANIFEST).read_text())
    shards, errors = [], {}
    for shard in range((len(manifest["paths"]) + manifest["shard_size"] - 1) // manifest["shard_size"]):
        with np.load(shard_path(cache_dir, shard)) as data:
            shards.append(data["embeddings"])
            errors.update({int(k): v for k, v in json.loads(str(data["errors"])).items()})
    row_shape = max((shard.shape[1:] for shard in shards), key=lambda shape: shape[-1])  # an all-failed shard has width 0
    shards = [shard if shard.shape[1:] == row_shape else np.full((len(shard), *row_shape), np.nan, np.float32) for shard in shards]
    return manifest["paths"], np.concatenate(shards), errors
