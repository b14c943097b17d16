"""The ``reglab`` command (click): one module per verb family, ``main`` assembling
them and ``common`` holding the shared options, data loading and console.

The edge of the package: it may import every layer, and nothing imports it.
"""

from .main import main

__all__ = ["main"]
