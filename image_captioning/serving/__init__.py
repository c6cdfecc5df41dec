"""The captioning HTTP server: dynamic batching, /v1 JSON routes, KServe / Triton Open Inference
Protocol v2, Prometheus metrics, graceful drain.

`engine.CaptionEngine` (the model side), `batcher.DynamicBatcher` (dynamic batching behind a
bounded queue), `app.create_app` (the routes), `runner.run_server` (uvicorn, drain on SIGTERM).
Everything but `engine` and `batcher` needs the `serve` extra (starlette, uvicorn,
python-multipart, prometheus-client); modules are imported where used, so this package's
import costs nothing.
"""
