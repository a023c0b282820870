"""The devices file: which agents a host may use, how to reach them and how to authenticate.

A YAML mapping, validated with pydantic so that a mistake is reported with the field it is in
and what was expected::

    version: 1
    pool: {queue_timeout_s: 3600, retry_initial_s: 1, retry_max_s: 60}
    defaults: {token_env: LINAS_AGENT_TOKEN}      # merged into every device
    devices:
      pi5-a:
        address: 192.168.1.20:50051
        labels: {board: pi5}
        runtime: onnxruntime                         # only take jobs for this runtime
        provider: CPUExecutionProvider               # for jobs that name none
        provider_options: {}                         # that provider's own options
        token_file: secrets/pi5-a.token              # or token_env: VAR; never the token itself
        tls: {ca: certs/ca.pem, cert: certs/host.pem, key: certs/host.key}
        timeouts: {rpc_s: 10, upload_s: 300, measure_s: 600}

Relative paths are taken from the devices file's folder. The file names where a token lives,
never the token, so the file can be shared and logged.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)

from linas_host.config_files import read_mapping, validated
from linas_sdk.errors import InvalidArgument
from linas_sdk.formats import RUNTIMES
from linas_sdk.grpc_settings import TOKEN_ENV

_NAME = re.compile(r"^[A-Za-z0-9[][A-Za-z0-9._:\[\]-]*$")
_ADDRESS = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})$")
_LOOPBACK = ("127.", "localhost", "[::1]")


def _resolve(path: Path | None, info: ValidationInfo) -> Path | None:
    """A relative path is relative to the devices file that names it."""
    base = (info.context or {}).get("base")
    if path is None or path.is_absolute() or base is None:
        return path
    return Path(base) / path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Deadlines for one device's calls, in seconds."""

    rpc_s: PositiveFloat = 10.0
    """Small calls: GetInfo, HasArtifact, health (connection set-up included)."""
    upload_s: PositiveFloat = 300.0
    """One artifact upload."""
    measure_s: PositiveFloat = 600.0
    """One Measure call: the execution timeout (the queue wait is counted apart)."""


class TlsFiles(_Strict):
    """PEM files for a TLS channel: the CA that signed the agent's certificate and, for mutual
    TLS, the host's own certificate and key."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None
    """Name to expect in the agent's certificate when it differs from the address's host."""

    @field_validator("ca", "cert", "key")
    @classmethod
    def _exists(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        path = _resolve(path, info)
        if path is not None and not path.is_file():
            raise ValueError(f"expected a readable PEM file, but {path} does not exist")
        return path

    @model_validator(mode="after")
    def _pair(self) -> TlsFiles:
        if (self.cert is None) != (self.key is None):
            raise ValueError("expected cert and key together (mutual TLS) or neither")
        return self


class DeviceSpec(_Strict):
    """One agent the host may use."""

    name: str
    address: str
    """HOST:PORT of the agent, e.g. 192.168.1.20:50051 or [::1]:50051."""
    labels: dict[str, str] = Field(default_factory=dict)
    runtime: Literal[RUNTIMES] | None = None  # type: ignore[valid-type]
    """When set, the device only takes jobs for this runtime."""
    provider: str = ""
    """Execution provider or delegate for jobs that name none ("" = the runtime's CPU default)."""
    provider_options: dict[str, str] = Field(default_factory=dict)
    """That provider's own options (ONNX Runtime's, e.g. device_id, trt_fp16_enable)."""
    token_env: str | None = None
    token_file: Path | None = None
    tls: TlsFiles | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                "expected a device name of letters, digits and '.', '_', '-', ':', '[', ']'"
            )
        return name

    @field_validator("address")
    @classmethod
    def _address(cls, address: str) -> str:
        match = _ADDRESS.match(address)
        if not match or not 0 < int(match["port"]) < 65536:
            raise ValueError("expected HOST:PORT with a port in 1..65535, e.g. 10.0.0.5:50051")
        return address

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, labels: Any) -> Any:
        if isinstance(labels, dict):
            return {str(key): str(value) for key, value in labels.items()}
        return labels

    @field_validator("token_file")
    @classmethod
    def _token_file(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        return _resolve(path, info)

    @model_validator(mode="after")
    def _one_token_source(self) -> DeviceSpec:
        if self.token_env and self.token_file:
            raise ValueError("expected token_env or token_file, not both")
        if self.provider_options and not self.provider:
            raise ValueError("provider_options need a provider: name the one they are for")
        return self

    @property
    def loopback(self) -> bool:
        return self.address.startswith(_LOOPBACK)

    @property
    def where(self) -> str:
        """How messages name the device: `device NAME (ADDRESS)`."""
        return f"device {self.name} ({self.address})"

    def read_token(self) -> str | None:
        """The bearer token, read now from where the spec points (never stored in the spec).

        Without token_env or token_file, the LINAS_AGENT_TOKEN environment variable is used when
        it is set, and no token otherwise.
        """
        if self.token_file is not None:
            try:
                token = self.token_file.read_text().strip()
            except OSError as error:
                raise InvalidArgument(
                    f"device {self.name!r}: cannot read token_file {self.token_file}: "
                    f"{error.strerror}; expected a readable file holding the agent's token"
                ) from error
            if not token:
                raise InvalidArgument(
                    f"device {self.name!r}: token_file {self.token_file} is empty; "
                    "expected the agent's token"
                )
            return token
        if self.token_env:
            token = os.environ.get(self.token_env, "").strip()
            if not token:
                raise InvalidArgument(
                    f"device {self.name!r}: environment variable {self.token_env} (token_env) "
                    "is not set; expected it to hold the agent's token"
                )
            return token
        return os.environ.get(TOKEN_ENV, "").strip() or None


class PoolSettings(_Strict):
    """How a DevicePool schedules and retries."""

    queue_timeout_s: PositiveFloat | None = None
    """Longest a job waits for a device before it fails; None waits as long as it takes."""
    retry_initial_s: PositiveFloat = 1.0
    """First wait before a dead device is tried again; doubled after every failure..."""
    retry_max_s: PositiveFloat = 60.0
    """...up to this."""
    health_interval_s: PositiveFloat = 30.0
    """An idle live device is checked this often."""
    max_device_losses: int = Field(default=3, ge=1)
    """A job whose device died under it this many times fails instead of moving on again."""


class DevicesFile(_Strict):
    """The whole devices file."""

    version: Literal[1] = 1
    pool: PoolSettings = Field(default_factory=PoolSettings)
    defaults: dict[str, Any] = Field(default_factory=dict)
    devices: dict[str, DeviceSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        """Give each device its name (the key) and the defaults it does not override."""
        if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
            return data
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            return data
        devices = {}
        for name, device in data["devices"].items():
            if not isinstance(device, dict):
                devices[name] = device
                continue
            merged = {**defaults, **device, "name": str(name)}
            for key in ("labels", "timeouts", "tls"):
                if isinstance(defaults.get(key), dict) and isinstance(device.get(key), dict):
                    merged[key] = {**defaults[key], **device[key]}
            devices[name] = merged
        return {**data, "devices": devices}


def _token_hint(field: str) -> str:
    if "token" not in field:
        return ""
    return (
        "; put the token in a file or an environment variable and name it with "
        "token_file or token_env"
    )


def parse_devices(
    data: Any, *, source: str = "devices file", base: Path | None = None
) -> DevicesFile:
    """Validate an already-loaded devices mapping; see load_devices."""
    return validated(
        DevicesFile,
        data,
        header=f"{source} is not a valid devices file",
        context={"base": base},
        unknown_hint=_token_hint,
    )


def load_devices(path: str | Path) -> DevicesFile:
    """Read and validate a devices file; InvalidArgument lists every field that is wrong."""
    path = Path(path)
    data = read_mapping(path, what="devices file", expected="a mapping with a 'devices' key")
    return parse_devices(data, source=str(path), base=path.parent)
