"""The ``assistant`` command line: ``serve``, ``worker``, ``db``, ``user``, ``version``."""

from assistant.cli._app import app, main

__all__ = ["app", "main"]
