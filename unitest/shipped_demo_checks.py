"""The grounded metrics of a shipped demo model on synthetic media it never saw, for the demo-model tests."""

from image_captioning import ClipCap
from image_captioning.evaluation.grounded import find_scene_entries, grounded_metrics
from image_captioning.synthetic import generate_scenes


def unseen_grounded_metrics(model_name, folder, num_images, num_videos, seed, batch_size):
    """Generates `num_images` images and `num_videos` videos from `seed` into `folder`, captions them all with
    `model_name` (its default generation) and reads every caption against its drawn scene."""
    generate_scenes(folder, num_images=num_images, num_videos=num_videos, seed=seed, image_size=96)
    paths = sorted(str(path) for path in [*(folder / "images").glob("*.png"), *(folder / "videos").glob("*.mp4")])
    results = ClipCap.from_pretrained(model_name).predict(paths, batch_size=batch_size)
    assert all(result.ok for result in results)
    predictions = {str(index): result.caption.text for index, result in enumerate(results)}
    entries = {str(index): entry for index, entry in find_scene_entries(paths).items()}
    assert len(entries) == len(paths) == num_images + num_videos
    metrics = grounded_metrics(predictions, entries)
    print({name: round(value, 3) for name, value in metrics.items()})
    return metrics
