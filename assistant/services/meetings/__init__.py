"""Meetings: transcription records and their jobs, the glossaries applied to them, the audio they keep, reviewed
edits, minutes, and the OpenAI-compatible ``/v1/audio/transcriptions``. Named after what users do, to stay apart
from the ``transcription`` library it drives.
"""

# The modules other service groups may import (tests/test_architecture.py holds them to it); the API and
# the CLI may use any module of the group.
__all__: list[str] = ["glossary", "live", "transcriptions"]
