"""Image->text and text->image recall@k of paired embeddings."""

import numpy as np


def retrieval_recall(image_embeddings, text_embeddings, keys=None, ks=(1, 5)):
    """Recall@k both ways for N image-text pairs (row i of each is a pair).

    Args:
        image_embeddings, text_embeddings: (N, D) arrays; they are L2-normalised here.
        keys: optional N hashable labels; a retrieved item whose key equals the query's counts as
            a hit (two scenes with the same caption cannot be told apart by it). Default: the index.
        ks: the k values to report.

    Returns:
        {"image_to_text_R@1": ..., "text_to_image_R@1": ..., ...} as fractions in [0, 1], plus
        "chance_R@1" (the recall@1 of a random ranking, 1/N when the keys are distinct).

    Example:
    ```python
    retrieval_recall(np.eye(3), np.eye(3))["image_to_text_R@1"]   # 1.0
    ```
    """
    images = _unit(np.asarray(image_embeddings, np.float64))
    texts = _unit(np.asarray(text_embeddings, np.float64))
    keys = np.arange(len(images)) if keys is None else np.asarray(keys)
    similarity = images @ texts.T
    results = {}
    for direction, scores in (("image_to_text", similarity), ("text_to_image", similarity.T)):
        ranked = np.argsort(-scores, axis=1, kind="stable")
        hits = keys[ranked] == keys[:, None]
        for k in ks:
            results[f"{direction}_R@{k}"] = float(hits[:, :k].any(axis=1).mean())
    results["chance_R@1"] = float((keys[:, None] == keys[None, :]).sum(axis=1).mean() / len(images))
    return results


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
