"""Batches (OpenAI's Batch API): JSONL files uploaded through ``/v1/files``, run line by line by the job workers at
the lowest priority through the gateway's one chat path, each output line labelled and signed.
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["data"]
