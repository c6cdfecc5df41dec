"""The machine a benchmark ran on: equal thread counts for every framework, the CPU, its ISA
features and its load, each framework's measured float32 and bfloat16 matrix-product rates, and the
measured memory bandwidth, so that a ratio can be read against the hardware it came from.

`set_threads` must run before the frameworks do any work (PyTorch refuses to change its inter-op
pool, and TensorFlow its pools, once they have run an operation).
"""

import os
import platform
import statistics
import time


def set_threads(threads):
    """Gives PyTorch and TensorFlow (when imported, or when Keras runs on it) `threads` intra-op
    and `threads` inter-op threads. Returns a line saying what was set."""
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    said = [f"torch intra/inter-op {torch.get_num_threads()}/{torch.get_num_interop_threads()}"]
    import keras

    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        said.append(
            f"TF intra/inter-op {tf.config.threading.get_intra_op_parallelism_threads()}"
            f"/{tf.config.threading.get_inter_op_parallelism_threads()}"
        )
    else:
        said.append(f"{keras.config.backend()}: XLA's own thread pool (not set)")
    return ", ".join(said)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The /proc/cpuinfo flags that decide which kernels the frameworks can use for our products.
ISA_FEATURES = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX512-BF16",
    "avx512_vnni": "AVX512-VNNI",
    "amx_bf16": "AMX-BF16",
    "amx_int8": "AMX-INT8",
}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def isa_features():
    """The matrix-relevant ISA features this CPU has, e.g. 'AVX2, AVX-512, AVX512-BF16' ('' if unknown)."""
    flags = cpu_flags()
    return ", ".join(name for flag, name in ISA_FEATURES.items() if flag in flags)


def load_average():
    """(1, 5, 15)-minute load averages, or None where the OS has none."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def describe_machine():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = load_average()
    load_text = "n/a" if load is None else " / ".join(f"{value:.2f}" for value in load)
    return (f"CPU {cpu_model()} [{isa_features() or 'ISA unknown'}], {os.cpu_count()} cores ({usable} usable), "
            f"load average (1/5/15 min) {load_text}")


def _median_seconds(run, repeats):
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def torch_gemm_gflops(size, repeats=3, device="cpu", dtype="float32"):
    """(size x size) @ (size x size) in PyTorch, in GFLOP/s (median of `repeats`)."""
    import torch

    a = torch.randn(size, size, device=device).to(getattr(torch, dtype))
    b = torch.randn(size, size, device=device).to(getattr(torch, dtype))

    def run():
        torch.matmul(a, b)
        if device != "cpu":
            torch.cuda.synchronize()

    return 2 * size**3 / _median_seconds(run, repeats) / 1e9


def keras_gemm_gflops(size, repeats=3, dtype="float32"):
    """(size x size) @ (size x size) on the Keras backend's own framework, in GFLOP/s. On TensorFlow
    an eager product (oneDNN or Eigen kernels, as our plain graphs use), on JAX an XLA one."""
    import keras

    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        a = tf.cast(tf.random.normal((size, size)), dtype)
        b = tf.cast(tf.random.normal((size, size)), dtype)
        return 2 * size**3 / _median_seconds(lambda: tf.linalg.matmul(a, b), repeats) / 1e9
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        a = jax.random.normal(jax.random.key(0), (size, size), "float32").astype(dtype)
        b = jax.random.normal(jax.random.key(1), (size, size), "float32").astype(dtype)
        product = jax.jit(jnp.matmul)
        return 2 * size**3 / _median_seconds(lambda: product(a, b).block_until_ready(), repeats) / 1e9
    raise ValueError(f"No GEMM measurement for the Keras backend {backend!r}: use tensorflow or jax.")


def memory_bandwidth_gbs(megabytes=512, repeats=5, device="cpu"):
    """Read bandwidth from memory in GB/s: a PyTorch sum (all intra-op threads) over a float32
    array far larger than any cache, the access pattern of batch-1 decoding (every weight read once)."""
    import torch

    values = torch.ones(megabytes * 2**20 // 4, device=device)

    def run():
        values.sum().item()

    return values.numel() * 4 / _median_seconds(run, repeats) / 1e9
