"""The curated public surface of the library and its error hierarchy."""

from __future__ import annotations

import inspect
from pathlib import Path

import transcription
from transcription import errors


def test_exported_names_are_exactly_the_curated_surface() -> None:
    expected = {
        "EMBEDDED_MODEL", "EXPORT_MEDIA_TYPES", "PROMPT_VERSION", "SAMPLE_RATE",
        "ActionItem", "AudioInfo", "AudioSource", "AudioWindow", "BaseTranscriber", "CancelEvent",
        "CompleteFn", "ExportFormat", "Message", "Metadata", "Minutes", "ModelCard",
        "ProgressCallback", "RemoteTranscriber", "ResemblyzerEmbedder", "Segment", "SegmentStream",
        "SpeakerDiarizer", "SpeakerEmbedder", "Transcriber", "Transcript", "WindowResult", "Word",
        "approx_tokens", "check_model_dir", "chunk_transcript", "cluster_speakers",
        "Correction", "CorrectionResult", "Glossary", "GlossaryTerm",
        "correct_text", "correct_transcript", "correct_words",
        "SpeakerProposal", "propose_speaker_names",
        "Decision", "MeetingNote", "MinutesPipeline", "DateMention", "chunk_segments", "extract_minutes", "find_dates",
        "LiveTranscriber", "LiveUpdate", "pcm16_to_float",
        "FileCheckpoint", "TranscriptionCheckpoint", "WindowRecord",
        "diarization_available", "export_minutes", "export_transcript", "format_timestamp",
        "generate_minutes", "iter_audio_windows", "load_audio", "minutes_to_docx",
        "minutes_to_markdown", "parse_json_object", "prepare_model", "probe_audio", "to_json",
        "to_markdown", "to_srt", "to_txt", "to_vtt", "transcript_to_docx",
    }  # fmt: skip
    assert set(transcription.__all__) == expected
    for name in transcription.__all__:
        assert hasattr(transcription, name), name


def test_public_objects_come_from_private_modules() -> None:
    for name in transcription.__all__:
        obj = getattr(transcription, name)
        module = getattr(obj, "__module__", None)
        # aliases of standard types (CancelEvent = threading.Event) are not ours to place
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and str(module).startswith("transcription"):
            assert str(module).startswith("transcription._"), (name, module)


def test_every_error_derives_from_the_base_and_is_documented() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert len(classes) == 18
    for cls in classes:
        assert issubclass(cls, errors.TranscriptionError)
        assert cls.__doc__ and cls.__doc__.strip()
        # the hierarchy drawn in the module docstring names every class
        assert cls.__name__ in (errors.__doc__ or "")
    assert issubclass(errors.RemoteTranscriptionError, errors.BackendError)
    assert issubclass(errors.DiarizationUnavailableError, errors.DiarizationError)
    assert issubclass(errors.AudioTooLongError, errors.AudioError)


def test_library_imports_no_web_framework_or_application_code() -> None:
    sources = [p.read_text("utf-8") for p in Path(transcription.__file__).parent.rglob("*.py")]
    assert len(sources) >= 14
    for source in sources:
        for forbidden in ("import assistant", "from assistant", "fastapi", "pydantic_settings", "os.environ"):
            assert forbidden not in source
