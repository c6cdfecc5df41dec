"""The captioning HTTP server: dynamic batching, /v1 JSON routes, KServe / Triton Open Inference
Protocol v2, Prometheus metrics, graceful drain.

`engine` (the model side), `batcher` (dynamic batching behind a bounded queue), `app` (routes),
`runner` (uvicorn with drain on SIGTERM). Needs the `serve` extra (starlette, uvicorn,
python-multipart, prometheus-client).
"""

from image_captioning.serving.app import create_app
from image_captioning.serving.batcher import DynamicBatcher, QueueFull
from image_captioning.serving.engine import CaptionEngine
from image_captioning.serving.settings import ServerSettings

__all__ = ["CaptionEngine", "DynamicBatcher", "QueueFull", "ServerSettings", "create_app"]
