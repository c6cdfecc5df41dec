"""A warm SDK worker pool for Beam's portable runner (`--environment_type=EXTERNAL`): its workers are threads of
one long-lived process that keeps TensorFlow imported and the loaded model, traced functions included, from one
job to the next.

Beam's own pool (`apache_beam.runners.worker.worker_pool_main`) starts a fresh Python process for every SDK worker
of every job. Each imports TensorFlow, loads the model and traces its functions again before its first caption
(about 8 s for shapes-demo on 2 cores, see `benchmarks/bench_beam.py --portable`); the persistent compilation
cache removes only the XLA compilation from that. On this pool, a job after the first captions its first batch
without any of it. It is the layout of the long-lived Beam worker-pool sidecar that Flink and Spark clusters run.

The trade-off is isolation: the workers share one process, so a worker that crashes (SIGKILL, out of memory) takes
the pool and the job down with it. The runner's retry or `--attempts` resubmits the job, and whatever restarts the
pool (systemd, a Kubernetes sidecar) brings it back cold. Where workers are expected to die, use Beam's pool.
"""

from __future__ import annotations

import signal
import threading


def serve_worker_pool(port: int = 0, preload: str | None = None, stop: threading.Event | None = None) -> None:
    """Serves SDK workers as threads of this process until SIGTERM, Ctrl-C or `stop` is set.

    Args:
        port: the port jobs name in `--environment_config=HOST:PORT` (0: any free port).
        preload: a model folder or known name to load before listening, so that even the first job finds it loaded;
            other models load at their first job. The process keeps one model at a time.
        stop: an event that stops the pool when set (for embedding it in another program).

    Prints "worker pool listening on localhost:PORT" once the model is loaded and the port is open.

    Example:
    ```python
    serve_worker_pool(50000, preload="pretrained_models/clipcap-coco")   # then, for every job:
    # image-captioning beam ... --runner PortableRunner --job_endpoint localhost:8099 \\
    #     --environment_type EXTERNAL --environment_config localhost:50000
    ```
    """
    from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer

    from image_captioning.beam.model_handler import ClipCapModelHandler, keep_models_across_jobs

    keep_models_across_jobs()
    if preload:
        ClipCapModelHandler(preload).load_model()
    address, server = BeamFnExternalWorkerPoolServicer.start(use_process=False, port=port)
    print(f"worker pool listening on {address}", flush=True)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(grace=None)
