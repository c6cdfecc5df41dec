"""The persistent compilation cache: a second process reuses the first one's XLA programs; the CLI's
parsing and `--help` load no TensorFlow; the off switches; clear errors. Nothing here is timed."""

import os
import subprocess
import sys
import warnings

import pytest

from image_captioning.cli.main import build_parser
from image_captioning.generation.compile_cache import (
    CACHE_ENV,
    CompileCacheError,
    compile_cache_from_args,
    enable_compilation_cache,
)
from unitest.conftest import PROJECT_ROOT


def _python(code_or_args, **env):
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environment, timeout=300, check=True)


def _caption(image, cache, out, functions_before=0):
    """Runs `caption` in a fresh process, after tracing `functions_before` unrelated tf.functions
    (which renumbers the generated names of ours)."""
    argv = ["caption", str(image), "--model", "shapes-demo", "--out", str(out), "--no-progress", "--compile-cache", str(cache)]
    shift = ("import tensorflow as tf\n"
             f"for i in range({functions_before}):\n    tf.function(lambda x: x + i)(tf.constant(1.0))\n") if functions_before else ""
    return _python(f"{shift}from image_captioning.cli.main import main\nraise SystemExit(main({argv!r}))")


def test_second_process_compiles_nothing_new(tmp_path, shared_data):
    cache = tmp_path / "xla"
    first = _caption(shared_data / "images" / "fruits.jpg", cache, tmp_path / "first")
    written = sorted(path.name for path in cache.iterdir())
    assert written, "the first process wrote no compiled program into the cache"
    # Renamed tf.functions (another trace order) must still hit: the cache keys on the program.
    second = _caption(shared_data / "images" / "orange.jpg", cache, tmp_path / "second", functions_before=3)
    assert sorted(path.name for path in cache.iterdir()) == written
    assert "1 captioned, 0 failed" in first.stdout and "1 captioned, 0 failed" in second.stdout


@pytest.mark.parametrize("argv", [["--help"], ["caption", "--help"], ["serve", "--help"], ["train", "--help"]])
def test_help_does_not_import_tensorflow(argv):
    code = (f"import sys\nfrom image_captioning.cli.main import main\ntry:\n    main({argv!r})\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))")
    assert _python(code).stdout.strip().splitlines()[-1] == "[]"


def test_import_image_captioning_loads_no_backend():
    code = "import sys, image_captioning\nprint(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    assert _python(code).stdout.strip() == "[]"


def test_command_imports_tensorflow_without_jax_and_jax_stays_importable():
    code = ("import sys\nfrom image_captioning.cli.quiet import quiet_backend_logs\nquiet_backend_logs()\n"
            "print('jax' in sys.modules)\nimport jax, tensorflow\nprint(jax.numpy.add(1, 2), tensorflow.constant(3).numpy())")
    assert _python(code).stdout.strip().splitlines()[-2:] == ["False", "3 3"]


def test_enable_sets_tensorflow_flags_before_import(tmp_path):
    code = ("import os\nfrom image_captioning.generation.compile_cache import enable_compilation_cache\n"
            f"print(enable_compilation_cache({str(tmp_path)!r}))\nprint(os.environ['TF_XLA_FLAGS'])")
    folder, flags = _python(code, TF_XLA_FLAGS="--tf_xla_auto_jit=0").stdout.strip().splitlines()
    assert folder == str(tmp_path.resolve())
    assert flags.split() == ["--tf_xla_auto_jit=0", f"--tf_xla_persistent_cache_directory={tmp_path.resolve()}",
                             "--tf_xla_disable_strict_signature_checks"]


@pytest.mark.parametrize("value", ["off", "0", "None"])
def test_environment_switch_turns_it_off(monkeypatch, value):
    monkeypatch.setenv(CACHE_ENV, value)
    monkeypatch.delenv("TF_XLA_FLAGS", raising=False)
    assert enable_compilation_cache() is None
    assert "TF_XLA_FLAGS" not in os.environ


def test_cli_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_XLA_FLAGS", "")  # recorded, so the flags set below are undone after the test
    monkeypatch.delenv("TF_XLA_FLAGS")
    monkeypatch.setenv(CACHE_ENV, "")  # likewise: compile_cache_from_args exports the choice
    monkeypatch.delenv(CACHE_ENV)
    off = build_parser(["caption"]).parse_args(["caption", "x.jpg", "--no-compile-cache"])
    assert compile_cache_from_args(off) is None and "TF_XLA_FLAGS" not in os.environ
    assert enable_compilation_cache() is None  # what a Beam model handler of that command asks for
    on = build_parser(["caption"]).parse_args(["caption", "x.jpg", "--compile-cache", str(tmp_path / "c")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TensorFlow may be loaded by other tests of this process
        assert compile_cache_from_args(on) == (tmp_path / "c").resolve()
        # The handler's default is now the command's folder, not ~/.cache (a CompileCacheError before).
        assert enable_compilation_cache() == (tmp_path / "c").resolve()
    assert f"--tf_xla_persistent_cache_directory={(tmp_path / 'c').resolve()}" in os.environ["TF_XLA_FLAGS"]
    with pytest.raises(SystemExit):
        build_parser(["caption"]).parse_args(["caption", "x.jpg", "--no-compile-cache", "--compile-cache", "d"])


def test_another_cache_in_tf_flags_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_XLA_FLAGS", f"--tf_xla_persistent_cache_directory={tmp_path / 'other'}")
    with pytest.raises(CompileCacheError, match="already names the compilation cache"):
        enable_compilation_cache(tmp_path / "mine")


def test_unwritable_folder_is_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CompileCacheError, match="--no-compile-cache"):
        enable_compilation_cache(blocker / "xla")


def test_late_call_warns(monkeypatch, tmp_path):
    monkeypatch.delenv("TF_XLA_FLAGS", raising=False)
    monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow", object()))
    with pytest.warns(UserWarning, match="after `import tensorflow`"):
        enable_compilation_cache(tmp_path)
