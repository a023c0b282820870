"""`linas search` with its host work on a real Ray cluster on loopback (tests/execute/conftest.py):
the same architectures as in this process, a worker killed mid-task, the cluster stopped
mid-run and the run resumed on another, a supernet module the workers lack."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from e2e_helpers import FAST_TIMING
from linas_cli import LINAS, cli_env, linas, read_until_done, tiny_search_config
from ray_helpers import RAY_ENV

SLOW_SCORING = {"supernet": "tiny_supernet:make", "options": {"score_seconds": 1.0}}
"""The tiny supernet with a second added to each candidate's host work: a task to catch."""


def journal(run: Path) -> list[tuple]:
    with sqlite3.connect(run / "journal.sqlite") as db:
        query = "SELECT idx, key, objective_values, host FROM evaluations ORDER BY idx"
        return db.execute(query).fetchall()


def ray_executor(address: str) -> dict:
    return {"kind": "ray", "address": address}


def test_ray_and_this_process_evaluate_the_same_architectures(ray_cluster, tmp_path) -> None:
    runs = {}
    for kind, executor in (("local", "local"), ("ray", ray_executor(ray_cluster.address))):
        config = tiny_search_config(
            tmp_path / f"{kind}.yaml",
            objectives=["accuracy", "params"],
            method="nsga2",
            population=4,
            budget=12,
            seed=3,
            host_threads=1,
            executor=executor,
            out=tmp_path / kind,
        )
        done = linas("search", config, "--progress", "quiet", cwd=tmp_path, env=RAY_ENV)
        assert done.returncode == 0, done.stderr
        runs[kind] = {key: json.loads(values) for _, key, values, _ in journal(tmp_path / kind)}
    assert len(runs["ray"]) == 12
    assert runs["ray"] == runs["local"], "same architectures, same host figures"
    recorded = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert recorded["executor"]["kind"] == "ray"
    assert recorded["executor"]["address"] == ray_cluster.address
    assert recorded["host_work"] == {socket.gethostname(): 12}
    report = (tmp_path / "ray" / "report.html").read_text()
    assert f"ray at {ray_cluster.address}" in report
    assert f"<dt>host work by node</dt><dd>{socket.gethostname()}: 12</dd>" in report
    assert json.loads((tmp_path / "local" / "run.json").read_text())["executor"]["kind"] == "local"


def test_a_worker_killed_mid_task_is_retried(ray_cluster, tmp_path) -> None:
    config = tiny_search_config(
        tmp_path / "search.yaml",
        space=SLOW_SCORING,
        method="nsga2",
        population=4,
        budget=8,
        measure=FAST_TIMING,
        cache=False,
        executor=ray_executor(ray_cluster.address),
        out=tmp_path / "run",
    )
    search = subprocess.Popen(
        [*LINAS, "search", str(config), "--progress", "quiet"],
        cwd=tmp_path,
        env=cli_env(RAY_ENV),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    try:
        deadline = time.monotonic() + 120
        while killed is None and search.poll() is None and time.monotonic() < deadline:
            running = ray_cluster.running("_run")
            if running:
                killed = running[0]
                with contextlib.suppress(ProcessLookupError):
                    os.kill(killed, signal.SIGKILL)
            time.sleep(0.05)
        _, stderr = search.communicate(timeout=240)
    finally:
        search.kill()
    assert killed is not None, "no worker was caught running a candidate's host work"
    assert search.returncode == 0, stderr
    rows = journal(tmp_path / "run")
    assert len(rows) == 8 and len({key for _, key, _, _ in rows}) == 8
    with (tmp_path / "run" / "results.csv").open() as out:
        results = list(csv.DictReader(out))
    assert [r["error"] for r in results] == [""] * 8, "the killed task was retried, not failed"
    assert {r["host"] for r in results} == {socket.gethostname()}
    assert all(float(r["latency_ms"]) > 0 for r in results), "measured by the local agent"
    assert "ray at 127.0.0.1" in (tmp_path / "run" / "report.html").read_text()


@pytest.mark.timeout(600)
def test_a_stopped_cluster_stops_the_run_and_another_resumes_it(
    own_ray_cluster, ray_cluster, tmp_path
) -> None:
    options = dict(
        space=SLOW_SCORING,
        method="nsga2",
        population=4,
        budget=12,
        measure=FAST_TIMING,
        out=tmp_path / "run",
    )
    config = tiny_search_config(
        tmp_path / "search.yaml", **options, executor=ray_executor(own_ray_cluster.client_address)
    )
    # Through Ray Client: a driver connected by the GCS address is ended by Ray itself when its
    # node goes (docs/ray.md); a client sees the server go after a grace period and its tries to
    # reconnect in it, both shortened here (from 30 s, and 5 s a try, growing).
    client = {
        "RAY_CLIENT_RECONNECT_GRACE_PERIOD": "2",
        "RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S": "1",
    }
    search = subprocess.Popen(
        [*LINAS, "search", str(config), "--progress", "jsonl"],
        cwd=tmp_path,
        env=cli_env({**RAY_ENV, **client}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        read_until_done(search, 4)
        own_ray_cluster.stop()
        _, stderr = search.communicate(timeout=240)
    finally:
        search.kill()
    assert search.returncode == 2, stderr
    assert "is gone" in stderr and "--resume" in stderr, stderr
    # Nothing touched Ray once it was gone: its API would have started a local cluster.
    assert "Ray Client is not connected" not in stderr, stderr
    before = journal(tmp_path / "run")
    assert 4 <= len(before) < 12

    tiny_search_config(
        tmp_path / "search.yaml", **options, executor=ray_executor(ray_cluster.address)
    )
    resumed = linas("search", config, "--resume", "--progress", "quiet", cwd=tmp_path, env=RAY_ENV)
    assert resumed.returncode == 0, resumed.stderr
    after = journal(tmp_path / "run")
    assert after[: len(before)] == before, "what was measured before the stop is kept as it was"
    assert len(after) == 12 and len({key for _, key, _, _ in after}) == 12, "none measured twice"


def test_a_supernet_module_the_workers_lack_is_named(ray_cluster, tmp_path) -> None:
    # A driver on a cluster's own machine lends its sys.path to the workers; one through Ray
    # Client does not, as from another machine: the module beside the config is its alone.
    (tmp_path / "only_here.py").write_text(
        "from tiny_supernet import TinySupernet\n\n\n"
        "class OnlyHere(TinySupernet):\n    pass\n\n\n"
        "def make(**options):\n    return OnlyHere(**options)\n"
    )
    config = tiny_search_config(
        tmp_path / "search.yaml",
        space="only_here:make",
        objectives=["accuracy", "params"],
        population=4,
        budget=4,
        executor=ray_executor(ray_cluster.client_address),
        out=tmp_path / "run",
    )
    done = linas(
        "search",
        config,
        "--progress",
        "quiet",
        cwd=tmp_path,
        env={**RAY_ENV, "PYTHONPATH": f"{cli_env()['PYTHONPATH']}:{tmp_path}"},
    )
    assert done.returncode == 2
    assert "No module named 'only_here'" in done.stderr and "docs/ray.md" in done.stderr
