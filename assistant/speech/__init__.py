"""Speech-to-text for the service: the configured engine over the ``transcription`` library, errors translated."""

from assistant.speech._engine import SpeechEngine, SpeechModel
from assistant.speech._errors import speech_errors

__all__ = ["SpeechEngine", "SpeechModel", "speech_errors"]
