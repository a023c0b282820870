"""The devices file: what it accepts, and errors that name the field and what was expected."""

from __future__ import annotations

import pytest
from linas_host.devices import load_devices

from linas_sdk.errors import InvalidArgument
from linas_sdk.target import Target


def write(tmp_path, text: str):
    path = tmp_path / "devices.yaml"
    path.write_text(text)
    return path


def test_defaults_merge_and_relative_paths(tmp_path):
    (tmp_path / "pi.token").write_text("s3cret\n")
    (tmp_path / "ca.pem").write_text("pem")
    devices = load_devices(write(tmp_path, """
version: 1
pool: {queue_timeout_s: 30, retry_max_s: 5}
defaults: {labels: {site: lab}, timeouts: {rpc_s: 3}, tls: {ca: ca.pem}}
devices:
  pi5-a:
    address: 10.0.0.5:50051
    labels: {board: pi5, rev: 2}
    token_file: pi.token
    timeouts: {measure_s: 90}
  jetson: {address: "[::1]:7000", runtime: onnxruntime, provider: TensorRT,
           provider_options: {trt_fp16_enable: "1"}}
"""))
    assert devices.pool.queue_timeout_s == 30 and devices.pool.retry_max_s == 5
    pi = devices.devices["pi5-a"]
    assert pi.name == "pi5-a"
    assert pi.labels == {"site": "lab", "board": "pi5", "rev": "2"}
    assert (pi.timeouts.rpc_s, pi.timeouts.measure_s) == (3, 90)
    assert pi.token_file == tmp_path / "pi.token" and pi.read_token() == "s3cret"
    assert pi.tls.ca == tmp_path / "ca.pem"
    assert "s3cret" not in repr(devices)
    jetson = devices.devices["jetson"]
    assert (jetson.runtime, jetson.provider) == ("onnxruntime", "TensorRT")
    assert jetson.provider_options == {"trt_fp16_enable": "1"}
    assert jetson.labels == {"site": "lab"}
    assert Target.of(labels={"site": "lab"}).accepts(jetson.name, jetson.labels)
    assert not Target.of(labels={"board": "pi5"}).accepts(jetson.name, jetson.labels)


def test_every_wrong_field_is_named_with_what_was_expected(tmp_path):
    path = write(tmp_path, """
devices:
  a: {address: "10.0.0.5", runtime: tflite}
  b: {address: "h:1", timeouts: {measure_s: 0}}
  both: {address: "h:1", token_env: X, token_file: y}
  c: {address: "h:99999"}
  d: {labels: {board: pi5}}
  e: {address: "h:1", tls: {cert: missing.pem}}
  f: {address: "h:1", provider_options: {device_id: "0"}}
""")
    with pytest.raises(InvalidArgument) as caught:
        load_devices(path)
    text = str(caught.value)
    assert str(path) in text
    assert "devices.a.address: expected HOST:PORT" in text and "'10.0.0.5'" in text
    assert "devices.a.runtime: Input should be 'onnxruntime' or 'litert'" in text
    assert "devices.b.timeouts.measure_s: Input should be greater than 0" in text
    assert "devices.both: expected token_env or token_file, not both" in text
    assert "devices.c.address: expected HOST:PORT with a port in 1..65535" in text
    assert "devices.d.address: Field required" in text
    assert "devices.e.tls.cert: expected a readable PEM file" in text
    assert "devices.f: provider_options need a provider: name the one they are for" in text


def test_a_pasted_token_is_refused_without_being_echoed(tmp_path):
    path = write(tmp_path, "devices:\n  a: {address: 'h:1', token: hunter2-secret}\n")
    with pytest.raises(InvalidArgument) as caught:
        load_devices(path)
    assert "devices.a.token: unknown field; expected one of name, address," in str(caught.value)
    assert "token_file or token_env" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("devices: [a, b]\n", "devices: Input should be a valid dictionary"),
        ("devices: {}\n", "devices: Dictionary should have at least 1 item"),
        ("- a\n", "expected a mapping with a 'devices' key, got list"),
        ("devices: {a: {address: 'h:1'}\n", "is not valid YAML"),
        ("version: 2\ndevices: {a: {address: 'h:1'}}\n", "version: Input should be 1"),
        ("devices: {'bad name': {address: 'h:1'}}\n", "devices.bad name.name: expected a device"),
    ],
)
def test_malformed_files(tmp_path, text, expected):
    with pytest.raises(InvalidArgument) as caught:
        load_devices(write(tmp_path, text))
    assert expected in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidArgument, match=r"cannot read devices file .*nope\.yaml"):
        load_devices(tmp_path / "nope.yaml")


def test_token_sources(tmp_path, monkeypatch):
    devices = load_devices(write(tmp_path, """
devices:
  env: {address: "h:1", token_env: PI_TOKEN}
  empty: {address: "h:1", token_file: empty.token}
  plain: {address: "h:1"}
""")).devices
    (tmp_path / "empty.token").write_text("\n")
    monkeypatch.delenv("PI_TOKEN", raising=False)
    monkeypatch.delenv("LINAS_AGENT_TOKEN", raising=False)
    with pytest.raises(InvalidArgument, match=r"environment variable PI_TOKEN .* is not set"):
        devices["env"].read_token()
    with pytest.raises(InvalidArgument, match=r"token_file .*empty\.token is empty"):
        devices["empty"].read_token()
    assert devices["plain"].read_token() is None
    monkeypatch.setenv("PI_TOKEN", "abc")
    monkeypatch.setenv("LINAS_AGENT_TOKEN", "fallback")
    assert devices["env"].read_token() == "abc"
    assert devices["plain"].read_token() == "fallback"


def test_the_example_devices_file_is_valid(tmp_path):
    from pathlib import Path

    example = Path(__file__).parents[2] / "examples" / "devices.yaml"
    devices = load_devices(example).devices
    assert {spec.labels.get("board") for spec in devices.values()} >= {"pi5"}
