"""Speech transcription and minutes library (no web imports).

Configured by keyword arguments only. Typical use::

    from transcription import Transcriber, SpeakerDiarizer, prepare_model, export_transcript

    transcriber = Transcriber(model_dir=prepare_model(cache_dir), diarizer=SpeakerDiarizer())
    transcript = transcriber.transcribe("reunion.m4a", language="fr", diarize=True)
    srt = export_transcript(transcript, "srt", label=AI_LABEL, metadata={"title": "Conseil"})
    minutes = await generate_minutes(transcript, complete=chat_backend_complete)

Errors are in :mod:`transcription.errors`; each carries a French message for the user.
"""

from transcription._audio import (
    SAMPLE_RATE,
    AudioInfo,
    AudioWindow,
    iter_audio_windows,
    load_audio,
    probe_audio,
)
from transcription._base import BaseTranscriber, SegmentStream, WindowResult
from transcription._checkpoint import FileCheckpoint, TranscriptionCheckpoint, WindowRecord
from transcription._clustering import cluster_speakers
from transcription._diarization import (
    ResemblyzerEmbedder,
    SpeakerDiarizer,
    SpeakerEmbedder,
    diarization_available,
)
from transcription._docx import minutes_to_docx, transcript_to_docx
from transcription._export import (
    EXPORT_MEDIA_TYPES,
    ExportFormat,
    Metadata,
    export_minutes,
    export_transcript,
    format_timestamp,
    minutes_to_markdown,
    to_json,
    to_markdown,
    to_srt,
    to_txt,
    to_vtt,
)
from transcription._glossary import (
    Correction,
    CorrectionResult,
    Glossary,
    GlossaryTerm,
    correct_text,
    correct_transcript,
    correct_words,
)
from transcription._introductions import SpeakerProposal, propose_speaker_names
from transcription._live import LiveTranscriber, LiveUpdate, pcm16_to_float
from transcription._minutes import (
    PROMPT_VERSION,
    ActionItem,
    CompleteFn,
    Decision,
    MeetingNote,
    Message,
    Minutes,
    MinutesPipeline,
    approx_tokens,
    chunk_segments,
    chunk_transcript,
    extract_minutes,
    generate_minutes,
    parse_json_object,
)
from transcription._minutes_dates import DateMention, find_dates
from transcription._model import EMBEDDED_MODEL, ModelCard, check_model_dir, prepare_model
from transcription._remote import RemoteTranscriber
from transcription._types import AudioSource, CancelEvent, ProgressCallback, Segment, Transcript, Word
from transcription._whisper import Transcriber

__all__ = [
    "EMBEDDED_MODEL",
    "EXPORT_MEDIA_TYPES",
    "PROMPT_VERSION",
    "SAMPLE_RATE",
    "ActionItem",
    "AudioInfo",
    "AudioSource",
    "AudioWindow",
    "BaseTranscriber",
    "CancelEvent",
    "CompleteFn",
    "Correction",
    "CorrectionResult",
    "DateMention",
    "Decision",
    "ExportFormat",
    "FileCheckpoint",
    "Glossary",
    "GlossaryTerm",
    "LiveTranscriber",
    "LiveUpdate",
    "MeetingNote",
    "Message",
    "Metadata",
    "Minutes",
    "MinutesPipeline",
    "ModelCard",
    "ProgressCallback",
    "RemoteTranscriber",
    "ResemblyzerEmbedder",
    "Segment",
    "SegmentStream",
    "SpeakerDiarizer",
    "SpeakerEmbedder",
    "SpeakerProposal",
    "Transcriber",
    "Transcript",
    "TranscriptionCheckpoint",
    "WindowRecord",
    "WindowResult",
    "Word",
    "approx_tokens",
    "check_model_dir",
    "chunk_segments",
    "chunk_transcript",
    "cluster_speakers",
    "correct_text",
    "correct_transcript",
    "correct_words",
    "diarization_available",
    "export_minutes",
    "export_transcript",
    "extract_minutes",
    "find_dates",
    "format_timestamp",
    "generate_minutes",
    "iter_audio_windows",
    "load_audio",
    "minutes_to_docx",
    "minutes_to_markdown",
    "parse_json_object",
    "pcm16_to_float",
    "prepare_model",
    "probe_audio",
    "propose_speaker_names",
    "to_json",
    "to_markdown",
    "to_srt",
    "to_txt",
    "to_vtt",
    "transcript_to_docx",
]
