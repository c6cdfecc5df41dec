"""A persistent compilation cache, so that a second process reuses the XLA programs the first compiled.

TensorFlow: XLA's JIT reads `TF_XLA_FLAGS` once, at the first XLA compilation of the process (not at
`import tensorflow`), so `enable_compilation_cache` works until then and is silently ignored after.
Entries are looked up by the HLO program's fingerprint, not by the `tf.function`'s generated name
(`--tf_xla_disable_strict_signature_checks`): that name carries a process-wide counter, so it
changes whenever functions are traced in another order (another batch size first, a server that
warms up differently). Only XLA programs are cached; Python tracing still runs in every process.

JAX: `jax_compilation_cache_dir`, with the size and time thresholds at zero so that every program
is kept. PyTorch compiles nothing here, so the cache is a no-op there.
"""

import json
import os
import sys
import warnings
from pathlib import Path

CACHE_ENV = "IMAGE_CAPTIONING_COMPILE_CACHE"
OFF_VALUES = ("0", "off", "false", "no", "none")
_TF_CACHE_FLAG = "--tf_xla_persistent_cache_directory"
_TF_LOOSE_FLAG = "--tf_xla_disable_strict_signature_checks"


class CompileCacheError(ValueError):
    """The cache folder cannot be used, or the cache was asked for after TensorFlow fixed its flags."""


def default_cache_dir():
    """`$IMAGE_CAPTIONING_COMPILE_CACHE` if set (None when it says off), else `~/.cache/image_captioning/xla`
    (under `$XDG_CACHE_HOME` when that is set)."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in OFF_VALUES else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "image_captioning" / "xla"


def enable_compilation_cache(directory=None):
    """Makes XLA compilations of this process land in (and come from) `directory`.

    Call it before the first XLA compilation (the CLI, the server and the Beam model handler do so
    at start-up). `import image_captioning` does not: a library should not write to the user's
    home folder unless asked.

    Args:
        directory: the cache folder, created if missing. None: `default_cache_dir()`, which is
            `$IMAGE_CAPTIONING_COMPILE_CACHE` or `~/.cache/image_captioning/xla`; when that
            variable is "off" (or 0, false, no, none) nothing is enabled.

    Returns:
        The folder in use, or None when the cache is switched off.

    Raises:
        CompileCacheError: the folder cannot be created or written, or `TF_XLA_FLAGS` already names
            another cache folder.

    Example:
    ```python
    import image_captioning
    from image_captioning.generation.compile_cache import enable_compilation_cache

    enable_compilation_cache()                      # ~/.cache/image_captioning/xla
    model = image_captioning.load("shapes-demo")
    model.predict("one.jpg")                        # a second process skips the XLA compilations
    ```
    """
    directory = default_cache_dir() if directory is None else Path(directory).expanduser()
    if directory is None:
        return None
    directory = _usable_directory(directory)
    backend = _keras_backend()
    if backend == "tensorflow":
        _set_tensorflow_flags(directory)
    elif backend == "jax":
        _set_jax_options(directory)
    return directory


def compile_cache_from_args(args):
    """The CLI's `--compile-cache DIR` / `--no-compile-cache` (see `add_compile_cache_arguments`).

    The choice also becomes `$IMAGE_CAPTIONING_COMPILE_CACHE`, the default of everything the command runs: the
    Beam model handlers in this process (whose `compile_cache=True` would otherwise name another folder than the
    one TensorFlow already uses) and the worker processes it starts."""
    if getattr(args, "no_compile_cache", False):
        os.environ[CACHE_ENV] = OFF_VALUES[0]
        return None
    directory = enable_compilation_cache(getattr(args, "compile_cache", None))
    if directory is not None:
        os.environ[CACHE_ENV] = str(directory)
    return directory


def add_compile_cache_arguments(parser):
    group = parser.add_argument_group("compilation cache").add_mutually_exclusive_group()
    group.add_argument("--compile-cache", metavar="DIR", type=Path,
                       help=f"keep compiled XLA programs here (default: ${CACHE_ENV}, else ~/.cache/image_captioning/xla)")
    group.add_argument("--no-compile-cache", action="store_true",
                       help=f"compile from scratch and keep nothing (also: {CACHE_ENV}=off)")


_FOLDER_FIX = (f"Pass another folder (--compile-cache DIR or {CACHE_ENV}=DIR), or turn the cache off "
               f"(--no-compile-cache or {CACHE_ENV}=off).")


def _usable_directory(directory):
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CompileCacheError(f"Cannot create the compilation cache folder {directory}: {error}. {_FOLDER_FIX}") from error
    if not os.access(directory, os.W_OK):
        raise CompileCacheError(f"The compilation cache folder {directory} is not writable. {_FOLDER_FIX}")
    return directory.resolve()


def _keras_backend():
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def _set_tensorflow_flags(directory):
    flags = os.environ.get("TF_XLA_FLAGS", "").split()
    named = [flag.split("=", 1)[1] for flag in flags if flag.startswith(_TF_CACHE_FLAG + "=")]
    if named and Path(named[-1]).resolve() != directory:
        raise CompileCacheError(
            f"TF_XLA_FLAGS already names the compilation cache {named[-1]}, not {directory}: "
            "drop that flag from TF_XLA_FLAGS, or pass that folder."
        )
    if named:
        return
    if "tensorflow" in sys.modules:
        warnings.warn(
            "enable_compilation_cache() was called after `import tensorflow`: TensorFlow reads TF_XLA_FLAGS "
            "at its first XLA compilation, so the cache works only if nothing was compiled with XLA yet. "
            "Call it before importing TensorFlow (or Keras, or running a model) to be sure.",
            stacklevel=3,
        )
    flags += [f"{_TF_CACHE_FLAG}={directory}"] + ([_TF_LOOSE_FLAG] if _TF_LOOSE_FLAG not in flags else [])
    os.environ["TF_XLA_FLAGS"] = " ".join(flags)


def _set_jax_options(directory):
    import jax

    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
