"""`linas devices list|ping` and `linas measure`, run as subprocesses against a real agent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import linas_cli
import pytest
from device_helpers import tiny_onnx

pytestmark = pytest.mark.timeout(120)

AGENT_MODELS = Path(__file__).resolve().parents[1] / "agent" / "models"
QUICK_FLAGS = [
    "--warmup-runs",
    "1",
    "--warmup-seconds",
    "0",
    "--min-runs",
    "3",
    "--min-seconds",
    "0",
    "--max-remeasures",
    "0",
]


def linas(*args: object) -> subprocess.CompletedProcess:
    return linas_cli.linas(*args, timeout=100, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def devices_file(live_device, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "devices.yaml"
    path.write_text(f"""devices:
  live: {{address: "{live_device.address}", labels: {{board: loopback}}, runtime: onnxruntime}}
  gone: {{address: "127.0.0.1:1", labels: {{board: pi5}}, timeouts: {{rpc_s: 2}}}}
""")
    return path


def test_devices_list_json(devices_file):
    done = linas("devices", "list", "-d", devices_file, "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    live, gone = rows["live"], rows["gone"]
    assert live["alive"] and live["labels"] == {"board": "loopback"}
    assert "onnxruntime" in [r["name"] for r in live["info"]["runtimes"]]
    assert live["info"]["cpu_count"] >= 1 and live["info"]["protocol_version"] == 1
    assert not gone["alive"] and "GetInfo" in gone["error"] and gone["info"] is None


def test_devices_list_table_and_ping(devices_file, tmp_path, live_device):
    table = linas("devices", "list", "-d", devices_file)
    assert table.returncode == 0, table.stderr
    assert "live" in table.stdout and "onnxruntime" in table.stdout and "Connection" in table.stdout
    ping = linas("devices", "ping", "-d", devices_file, "--json")
    assert ping.returncode == 1  # gone is down
    rows = {row["name"]: row for row in json.loads(ping.stdout)}
    assert rows["live"]["alive"] and rows["live"]["rtt_ms"] > 0  # a health check was timed
    assert not rows["gone"]["alive"] and rows["gone"]["rtt_ms"] is None
    only_live = tmp_path / "live.yaml"
    only_live.write_text(f"devices:\n  live: {{address: '{live_device.address}'}}\n")
    ping = linas("devices", "ping", "-d", only_live)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "rtt ms" in ping.stdout


def test_devices_through_a_pipe_print_one_line_per_device(devices_file):
    # a narrow COLUMNS makes rich fold every cell into a column; a pipe must not care
    for action, figures in (("list", ["runtimes", "cores", "governor", "int8"]),
                            ("ping", ["rtt", "ms"])):  # fmt: skip
        done = linas_cli.linas("devices", action, "-d", devices_file, env={"COLUMNS": "40"})
        assert done.returncode == (0 if action == "list" else 1), done.stderr
        header, live, gone = done.stdout.splitlines()  # one line each, nothing else
        assert header.split() == ["name", "address", "labels", "alive", *figures, "warnings"]
        assert live.split()[:4] == ["live", live.split()[1], "board=loopback", "yes"]
        assert gone.split()[:5] == ["gone", "127.0.0.1:1", "board=pi5", "no", "-"]
        assert gone.endswith("Connection refused")  # the whole error, on its row
        assert ("onnxruntime" in live) == (action == "list")


def test_measure_json_uploads_once(devices_file, tmp_path):
    model = tmp_path / "tiny.onnx"
    model.write_bytes(tiny_onnx(77.0))
    runs = [
        linas("measure", model, "--device", "live", "-d", devices_file, *QUICK_FLAGS, "--json")
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["device"] == "live" and first["runtime"] == "onnxruntime"
    assert first["samples"] >= 3 and 0 < first["min_ms"] <= first["median_ms"] <= first["max_ms"]
    assert (first["uploaded_bytes"], second["uploaded_bytes"]) == (model.stat().st_size, 0)


def test_measure_tflite_by_address_prints_a_table(live_device):
    run = linas(
        "measure",
        AGENT_MODELS / "mlp.tflite",
        "--device",
        live_device.address,
        *QUICK_FLAGS,
        "--threads",
        "1",
    )
    assert run.returncode == 0, run.stderr
    assert "litert" in run.stdout and "median ms" in run.stdout and "p99 ms" in run.stdout


def test_measure_names_an_unknown_device(devices_file, tmp_path):
    run = linas("measure", tmp_path / "m.onnx", "--device", "nope", "-d", devices_file)
    assert run.returncode == 2
    assert "device 'nope' is not a name in" in run.stderr and "HOST:PORT" in run.stderr
