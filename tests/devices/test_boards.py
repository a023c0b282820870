"""Before the first candidate, a search checks its boards: a target no device can take is
refused at once, one whose devices are all down stops the run naming each address, and waiting
for boards that come up later is an option that says it is waiting. Real agents and a real
closed port on loopback."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import yaml
from linas_host.devices import LocalAgent
from linas_host.run.boards import Boards
from linas_host.run.progress import Reporter

from linas_sdk.errors import DeviceUnavailable, InvalidArgument
from linas_sdk.target import Target


class Notes(Reporter):
    """Keeps the notes; `waiting` is set when the run says it waits for a board."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.waiting = threading.Event()

    def _note(self, text: str) -> None:
        self.lines.append(text)
        if text.startswith("waiting"):
            self.waiting.set()


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def devices_yaml(path: Path, devices: dict[str, dict]) -> Path:
    path.write_text(yaml.safe_dump({"pool": {"retry_initial_s": 0.2, "retry_max_s": 0.5},
                                    "devices": devices}))
    return path


def boards(path: Path, target: Target, reporter: Reporter, wait_s: float = 0.0) -> Boards:
    return Boards(path, [target], "onnxruntime", agent_cache=path.parent / "agent",
                  reporter=reporter, wait_s=wait_s)


def test_a_board_that_does_not_answer_stops_the_search_naming_its_address(tmp_path) -> None:
    port = closed_port()
    path = devices_yaml(tmp_path / "devices.yaml",
                        {"pi5-a": {"address": f"127.0.0.1:{port}", "labels": {"board": "pi5"}}})
    notes, pi5 = Notes(), Target.of(labels={"board": "pi5"})
    with pytest.raises(DeviceUnavailable) as caught, boards(path, pi5, notes):
        pass
    text = str(caught.value)
    assert f"take jobs for 'board=pi5': pi5-a at 127.0.0.1:{port} is down" in text
    assert "wait_for_devices_s" in text
    assert any(f"device pi5-a (127.0.0.1:{port}) is down" in line for line in notes.lines)


def test_a_target_no_device_can_take_is_refused_naming_the_devices(tmp_path) -> None:
    path = devices_yaml(tmp_path / "devices.yaml",
                        {"pi5-a": {"address": f"127.0.0.1:{closed_port()}"}})
    with pytest.raises(InvalidArgument) as caught, boards(path, Target.of("pi5-b"), Notes()):
        pass
    text = str(caught.value)
    assert "can take jobs for 'pi5-b' on onnxruntime" in text and "pi5-a at 127.0.0.1:" in text


def test_waiting_for_a_board_says_so_and_goes_on_when_it_comes_up(tmp_path) -> None:
    port = closed_port()
    path = devices_yaml(tmp_path / "devices.yaml", {"late": {"address": f"127.0.0.1:{port}"}})
    notes, outcome = Notes(), {}

    def open_boards() -> None:
        try:
            with boards(path, Target(), notes, wait_s=120) as opened:
                outcome["names"] = opened.names
                outcome["states"] = [d["state"] for d in opened.manifests()]
        except BaseException as error:  # reported below, in the test's thread
            outcome["error"] = error

    opener = threading.Thread(target=open_boards)
    opener.start()
    try:
        assert notes.waiting.wait(60), notes.lines
        with LocalAgent(name="late", port=port, cache_dir=tmp_path / "agent"):
            opener.join(120)
    finally:
        opener.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome == {"names": ["late"], "states": ["alive"]}
    waiting = next(line for line in notes.lines if line.startswith("waiting"))
    assert waiting.startswith("waiting up to 120 s for a device to take jobs for any device")
    assert f"late at 127.0.0.1:{port} is down" in waiting
