# The fake upstream fixtures; once the root conftest registers tests.fakes.pytest_plugin this import can go.
from tests.fakes.pytest_plugin import _openai_upstream_server, openai_upstream

__all__ = ["_openai_upstream_server", "openai_upstream"]
