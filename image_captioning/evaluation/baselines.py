"""Trivial captioners to compare a model against."""

import collections


def constant_baseline(references):
    """Predicts the most common reference caption for every id.

    Captions are counted case- and whitespace-insensitively; ties go to the caption seen first.
    A model that does not beat this has learnt little beyond the dataset's favourite sentence.

    Args:
        references: {id: [reference captions]}.

    Returns:
        {id: caption}, the same caption for every id, spelt as it first appears.

    Example:
    ```python
    constant_baseline({1: ["A dog.", "a cat"], 2: ["a  dog."]})  # {1: "A dog.", 2: "A dog."}
    ```
    """
    counts = collections.Counter()
    first_spelling = {}
    for captions in references.values():
        for caption in captions:
            key = " ".join(caption.lower().split())
            counts[key] += 1
            first_spelling.setdefault(key, caption.strip())
    if not counts:
        raise ValueError("references hold no caption; expected {id: [captions]} with at least one caption")
    # Counter.most_common keeps insertion order among equal counts.
    best = first_spelling[counts.most_common(1)[0][0]]
    return {key: best for key in references}
