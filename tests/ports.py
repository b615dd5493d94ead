"""The tests' name for devtools/ports.py (the benchmarks use the same ports)."""

from devtools.ports import LOWEST, free_port, free_ports

__all__ = ["LOWEST", "free_port", "free_ports"]
