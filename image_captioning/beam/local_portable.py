"""Beam's portable path on one machine: a job service and an SDK worker pool as separate processes on loopback.

This is the layout Flink, Spark and Dataflow use for Python: the pipeline is submitted to a job service,
which starts SDK worker processes (here through the worker pool, `--environment_type=EXTERNAL`) that
unpickle the DoFns and the model handler, load the model themselves and process bundles.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

JOB_SERVICE = "apache_beam.runners.portability.local_job_service_main"
WORKER_POOL = "apache_beam.runners.worker.worker_pool_main"
WARM_WORKER_POOL = "image_captioning.cli"  # `image-captioning beam-worker-pool`, see image_captioning.beam.worker_pool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def worker_environment(env=None) -> dict[str, str]:
    """The environment for the services: `env` (default: this process's) with this Python first on PATH,
    because the worker pool starts each SDK worker as a bare `python -c ...`."""
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@contextmanager
def local_portable_services(env=None, log_dir=None, start_timeout=120.0, warm_pool=False, preload=None):
    """Starts a job service and a worker pool, yields the Beam options that submit to them, then stops both.

    Args:
        env: environment of both services and so of every SDK worker (default: this process's); put the
            package on its PYTHONPATH when it is not installed.
        log_dir: where `job-service.log` and `worker-pool.log` go (default: a fresh temp folder).
        start_timeout: seconds to wait for the two services to listen.
        warm_pool: start `image-captioning beam-worker-pool` (SDK workers are threads of one process that keeps
            the model across jobs) instead of Beam's pool (one fresh process per SDK worker).
        preload: with `warm_pool`, the model the pool loads before it listens.

    Yields:
        ["--runner=PortableRunner", "--job_endpoint=localhost:P", "--environment_type=EXTERNAL",
        "--environment_config=localhost:Q"]; add e.g. "--direct_num_workers=2" for two SDK workers.

    Example:
    ```python
    with local_portable_services() as beam_args:
        caption_with_beam(["photos/*.jpg"], "out/", "shapes-demo", pipeline_args=beam_args)
    ```
    """
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="beam-portable-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = worker_environment(env)
    port_file, pool_port = log_dir / "job-service.port", free_port()
    port_file.unlink(missing_ok=True)
    processes = []
    try:
        processes.append(_start([JOB_SERVICE, "--port", "0", "--port_file", str(port_file)], env,
                                log_dir / "job-service.log"))
        pool = ([WARM_WORKER_POOL, "beam-worker-pool", f"--port={pool_port}", *([f"--preload={preload}"] if preload else [])]
                if warm_pool else [WORKER_POOL, f"--service_port={pool_port}"])
        processes.append(_start(pool, env, log_dir / "worker-pool.log"))
        job_port = _wait_for(lambda: port_file.is_file() and port_file.read_text().strip(), processes, start_timeout)
        _wait_for(lambda: _listening(pool_port), processes, start_timeout)
        yield ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
               "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}"]
    finally:
        for process in processes:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen, grace: float = 10.0):
    """SIGTERM to the process and everything it started (its own session), then SIGKILL after `grace` s."""
    for sig, wait in ((15, grace), (9, grace)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    try:  # the worker pool's children outlive it when it dies first; they share its process group
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def _start(module_args, env, log_path):
    log = open(log_path, "ab")
    try:
        # A session of its own: stopping the group also stops the SDK workers the pool started.
        return subprocess.Popen([sys.executable, "-m", *module_args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("localhost", port)) == 0


def _wait_for(ready, processes, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        dead = [p.args for p in processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a Beam service exited at start-up: {dead}")
        time.sleep(0.1)
    raise TimeoutError(f"the Beam services did not listen within {timeout:.0f} s")
