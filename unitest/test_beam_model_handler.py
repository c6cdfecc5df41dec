"""`ClipCapModelHandler`'s one-model-per-process cache: per job by default, across jobs in a warm worker pool,
and loaded afresh when the model's files change."""

import shutil

import pytest

pytest.importorskip("apache_beam")

from image_captioning.beam import model_handler  # noqa: E402
from image_captioning.beam.model_handler import ClipCapModelHandler, keep_models_across_jobs  # noqa: E402
from unitest.test_beam_pipeline import DEMO_MODEL  # noqa: E402


@pytest.fixture
def clean_cache():
    yield
    model_handler._KEEP_ACROSS_JOBS.clear()
    model_handler._LOADED.clear()


def test_each_job_loads_its_own_model_by_default(clean_cache):
    first, second = ClipCapModelHandler(str(DEMO_MODEL), compile_cache=False), ClipCapModelHandler(str(DEMO_MODEL), compile_cache=False)
    model = first.load_model()
    assert first.load_model() is model  # both RunInference steps of one job
    assert second.load_model() is not model  # the next job


def test_a_warm_process_keeps_the_model_until_its_files_change(tmp_path, clean_cache):
    folder = shutil.copytree(DEMO_MODEL, tmp_path / "model")
    keep_models_across_jobs()
    model = ClipCapModelHandler(str(folder), compile_cache=False).load_model()
    assert ClipCapModelHandler(str(folder), {"strategy": "beam"}, compile_cache=False).load_model() is model
    (folder / "config.json").write_text((folder / "config.json").read_text() + "\n")  # rewritten in place
    assert ClipCapModelHandler(str(folder), compile_cache=False).load_model() is not model
