"""Souverain — on-premise AI assistant for public agents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("souverain")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
