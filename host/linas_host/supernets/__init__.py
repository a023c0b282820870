"""Weight-sharing supernetworks (torch): their search spaces, sub-network extraction, host-side
scoring, MACs and parameters. The contract is `protocol.Supernet`; names resolve in `registry`.
"""

from __future__ import annotations

from linas_host.supernets.protocol import Config, Supernet
from linas_host.supernets.registry import create, names, register, resolve

__all__ = ["Config", "Supernet", "create", "names", "register", "resolve"]
