"""`image-captioning beam` the way clusters run Python: Beam's portable runner, a job service and an EXTERNAL
worker pool as separate processes, SDK worker processes that load the model themselves; the DirectRunner's
multi_processing mode; an SDK worker SIGKILLed mid-run; and the warm worker pool (`image-captioning
beam-worker-pool`), whose thread workers keep one loaded model across jobs. Every input of a mixed corpus must end as exactly
one caption record or one error record, identical to `predict`'s. Run them alone: `pytest -m beam_portable`."""

import json
import os
from collections import Counter

import pytest

pytest.importorskip("apache_beam")

from image_captioning import ClipCap  # noqa: E402
from image_captioning.beam import caption_with_beam  # noqa: E402
from image_captioning.beam.local_portable import local_portable_services  # noqa: E402
from image_captioning.cli import main  # noqa: E402
from image_captioning.media.frame_sampling import FrameSampling  # noqa: E402
from unitest.beam_faults import KillOnceHandler  # noqa: E402
from unitest.conftest import PROJECT_ROOT, SHARED_DATA  # noqa: E402
from unitest.test_beam_pipeline import DEMO_MODEL, build_inputs, read_lines, scores, without_scores  # noqa: E402

pytestmark = pytest.mark.beam_portable
GENERATION = {"strategy": "greedy", "max_length": 12}
FRAMES = 2
BATCH = 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The mixed corpus of test_beam_pipeline (photos, copies, videos, bad files) and `predict`'s results on it."""
    root = tmp_path_factory.mktemp("portable")
    files = build_inputs(root / "in", SHARED_DATA)
    predicted = ClipCap.from_pretrained(DEMO_MODEL).predict(files, sampling=FrameSampling(num_frames=FRAMES),
                                                            batch_size=BATCH, **GENERATION)
    return {"root": root, "files": files, "patterns": [str(root / "in" / "**")], "predicted": predicted}


def services_environment(folder):
    """This environment, with the package on PYTHONPATH and the compilation cache in `folder`/xla: the services
    pass it to every SDK worker."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            "IMAGE_CAPTIONING_COMPILE_CACHE": str(folder / "xla")}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """A job service and a worker pool; the environment reaches every SDK worker (package path, cache)."""
    folder = tmp_path_factory.mktemp("services")
    with local_portable_services(services_environment(folder), log_dir=folder / "logs") as beam_args:
        yield {"args": beam_args, "cache": folder / "xla", "logs": folder / "logs"}


@pytest.fixture(scope="module")
def warm_pool(tmp_path_factory):
    """A job service and `image-captioning beam-worker-pool --preload`: SDK workers are threads of one lasting
    process, which loaded the model before it listened."""
    folder = tmp_path_factory.mktemp("warm-pool")
    with local_portable_services(services_environment(folder), log_dir=folder / "logs", warm_pool=True,
                                 preload=str(DEMO_MODEL)) as beam_args:
        yield {"args": beam_args, "logs": folder / "logs"}


def cli_run(corpus, out, beam_args):
    argv = ["beam", *[a for p in corpus["patterns"] for a in ("--input", p)], "--output", str(out) + "/",
            "--model", str(DEMO_MODEL), "--frames", str(FRAMES), "--batch-size", str(BATCH),
            "--strategy", GENERATION["strategy"], "--max-length", str(GENERATION["max_length"]), *beam_args]
    return main(argv)


def assert_same_as_predict(corpus, out):
    """Exactly one record per input, no duplicate, each identical to `predict`'s (scores within 1e-4)."""
    captions, errors = read_lines(out, "captions"), read_lines(out, "errors")
    sources = [record["source"] for record in captions + errors]
    assert Counter(sources).most_common(1)[0][1] == 1, "an input has two records"
    assert sorted(sources) == sorted(corpus["files"])
    expected = {r.source: r for r in corpus["predicted"]}
    for line in captions:
        record = expected[line["source"]].to_dict()
        assert without_scores(line) == without_scores(record), line["source"]
        assert scores(line) == pytest.approx(scores(record), abs=1e-4), line["source"]
    for error in errors:
        assert error["message"] == expected[error["source"]].error
    assert len(captions) == sum(r.ok for r in corpus["predicted"]) >= 36
    return len(captions), len(errors)


def test_portable_runner_with_external_worker_pool(corpus, services, capsys):
    out = corpus["root"] / "portable"
    code = cli_run(corpus, out, services["args"])
    captions, errors = assert_same_as_predict(corpus, out)
    assert code == 1  # the bad files
    assert f"{len(corpus['files'])} inputs: {captions} captioned, {errors} errors" in capsys.readouterr().out
    assert any(services["cache"].iterdir()), "the SDK worker wrote no compiled program into the cache"


def test_direct_runner_multi_processing(corpus, tmp_path, monkeypatch):
    # The SDK worker subprocesses inherit this process's environment.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    out = corpus["root"] / "multi"
    cli_run(corpus, out, ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert_same_as_predict(corpus, out)


def test_killed_worker_fails_the_attempt_and_the_resubmission_completes(corpus, services, tmp_path, caplog):
    log, marker = tmp_path / "handler.log", tmp_path / "killed"
    handler = KillOnceHandler(str(DEMO_MODEL), GENERATION, log=log, marker=marker, kill_at=2, max_batch_size=BATCH)
    out = corpus["root"] / "killed"
    counts = caption_with_beam(corpus["patterns"], str(out) + "/", str(DEMO_MODEL), sampling=FrameSampling(num_frames=FRAMES),
                               handler=handler, attempts=2, pipeline_args=[*services["args"], "--direct_num_workers=2"])
    assert marker.exists(), "no worker was killed"
    assert counts["attempts"] == 2 and "Channel closed prematurely" in caplog.text  # the failure is reported
    captions, errors = assert_same_as_predict(corpus, out)
    assert counts["inputs"] == len(corpus["files"]) == counts["captions"] + counts["errors"] == captions + errors
    events = [line.split() for line in log.read_text().splitlines()]
    loads = Counter(pid for kind, pid, *_ in events if kind == "load")
    assert set(loads.values()) == {1}, f"a worker process loaded the model more than once: {loads}"
    assert len({pid for kind, pid, *_ in events if kind == "batch"}) >= 2  # the killed worker and its successors
    assert json.loads((out / "videos" / "tree.json").read_text())["ok"]


def test_killed_worker_without_resubmission_raises_and_leaves_no_results(corpus, services, tmp_path):
    """With attempts=1, Beam's FnApiRunner does not retry the dead worker's bundle: the job fails loudly."""
    handler = KillOnceHandler(str(DEMO_MODEL), GENERATION, log=tmp_path / "handler.log", marker=tmp_path / "killed",
                              kill_at=1, max_batch_size=BATCH)
    out = corpus["root"] / "killed-once"
    with pytest.raises(Exception, match="Channel closed prematurely"):
        caption_with_beam(corpus["patterns"], str(out) + "/", str(DEMO_MODEL), sampling=FrameSampling(num_frames=FRAMES),
                          handler=handler, attempts=1, pipeline_args=services["args"])
    assert (tmp_path / "killed").exists()
    assert not list(out.glob("captions-*.jsonl")), "a failed job left a partial caption file"


def test_warm_worker_pool_loads_the_model_once_for_two_jobs(corpus, warm_pool):
    for job in ("first", "second"):
        out = corpus["root"] / f"warm-pool-{job}"
        cli_run(corpus, out, [*warm_pool["args"], "--direct_num_workers=2"])
        assert_same_as_predict(corpus, out)
    log = (warm_pool["logs"] / "worker-pool.log").read_text()
    assert log.count("loaded the model") == 1, log[-3000:]  # at --preload, none for either job
