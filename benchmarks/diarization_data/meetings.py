"""Synthetic multi-voice French meetings with an exact reference of who speaks when.

Each speaker is an espeak-ng French voice given its own variant, pitch (``-p``) and speed (``-s``);
turns are short (a word or two) or long (several sentences), most separated by a pause, some
overlapping the previous turn. The mix gets background noise generated and mixed by SoX at a
chosen signal-to-noise ratio. Everything derives from the seed, so a meeting is the same file on
every run; synthesised turns are cached by their arguments in ``folder``.

Usage::

    meeting = make_meeting(3, seed=1, duration_s=60, folder=Path("/tmp/diar"))
    meeting.path, meeting.turns, meeting.speech_regions()
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["Meeting", "Turn", "VoiceSpec", "make_meeting", "voices_for"]

RATE = 16_000
# espeak-ng variants that the speaker encoder tells apart (mean cosine distance at least 0.15 between any two at
# the same pitch, chosen greedily among 28): several others are one voice to it (Gustave, Michel, Linda, Belinda
# and Mr_Serious give identical d-vectors; f2 and f5 are 0.01 apart), which would measure nothing.
_VARIANTS = ("m3", "f3", "grandma", "benjamin", "Andrea", "Andy", "klatt3", "Storm", "f1", "Denis")
_BASES = ("fr", "fr-be", "fr-ch")

_SHORT = (
    "Oui.",
    "D'accord.",
    "Tout à fait.",
    "Merci beaucoup.",
    "Non, pas du tout.",
    "Je suis d'accord.",
    "Exactement.",
    "C'est noté.",
    "Bien sûr.",
    "Pourquoi pas.",
)
_SENTENCES = (
    "Nous commençons la réunion du comité de pilotage consacrée au budget de l'année prochaine.",
    "Je propose de reporter la décision sur les travaux de la médiathèque au mois de septembre.",
    "Le conseil municipal a voté la rénovation de l'école primaire avant la rentrée.",
    "Madame Dupont enverra le planning détaillé aux services techniques avant vendredi.",
    "Les dépenses de fonctionnement ont augmenté de trois pour cent par rapport à l'an dernier.",
    "Il faudra consulter les habitants du quartier avant de modifier le plan de circulation.",
    "La préfecture attend notre réponse sur le dossier de subvention pour la fin du mois.",
    "Nous avons reçu quarante-deux candidatures pour le poste de chargé de mission.",
    "Le marché public sera publié la semaine prochaine sur la plateforme régionale.",
    "Je rappelle que la commission des finances se réunit mardi à quatorze heures.",
    "Les agents du service état civil demandent un second guichet pour l'accueil du public.",
    "Le rapport de la chambre régionale des comptes recommande de réduire la dette.",
    "La piscine intercommunale fermera deux semaines en août pour des travaux de mise aux normes.",
    "Pouvez-vous préciser le calendrier de déploiement des nouveaux logiciels de gestion ?",
    "Le département finance la moitié du projet, le reste est à la charge de la commune.",
    "Nous devons encore arbitrer entre la réfection de la voirie et l'extension du parking.",
    "La médiation numérique a accompagné plus de trois cents usagers depuis janvier.",
    "Je vous propose de valider le compte rendu de la dernière séance sans modification.",
)


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """How espeak-ng speaks for one synthetic person."""

    name: str
    voice: str
    pitch: int
    speed: int
    gain_db: float


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's stretch of speech in the reference (seconds from the start of the file)."""

    speaker: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Meeting:
    """A generated recording and its reference turns (overlapping turns overlap here too)."""

    path: Path
    turns: tuple[Turn, ...]
    duration: float
    voices: tuple[VoiceSpec, ...]

    @property
    def speakers(self) -> list[str]:
        return sorted({turn.speaker for turn in self.turns})

    def speech_regions(self, *, merge_gap_s: float = 0.5) -> list[tuple[float, float]]:
        """Union of the reference turns, pauses shorter than ``merge_gap_s`` bridged.

        This is what a voice activity detector hands the diarizer: stretches of speech that may
        hold several speakers, since people often answer without a long pause.
        """
        regions: list[list[float]] = []
        for turn in sorted(self.turns, key=lambda t: t.start):
            if regions and turn.start - regions[-1][1] < merge_gap_s:
                regions[-1][1] = max(regions[-1][1], turn.end)
            else:
                regions.append([turn.start, turn.end])
        return [(round(lo, 3), round(hi, 3)) for lo, hi in regions]

    def overlap_s(self) -> float:
        """Seconds where two reference speakers talk at once."""
        events = sorted([(t.start, 1) for t in self.turns] + [(t.end, -1) for t in self.turns])
        active, last, total = 0, 0.0, 0.0
        for time, step in events:
            if active >= 2:
                total += time - last
            active, last = active + step, time
        return total


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is required: apt-get install -y espeak-ng sox")
    return path


def voices_for(n_speakers: int, rng: np.random.Generator) -> list[VoiceSpec]:
    """``n_speakers`` voices, each with its own variant, pitch, speed and level.

    Pitches are spread over espeak-ng's range (with jitter) rather than drawn independently: two
    variants at the same pitch can give the speaker encoder the same voice (cosine distance 0.05,
    less than one voice's own spread), which no real pair of colleagues does.
    """
    variants = rng.choice(len(_VARIANTS), size=n_speakers, replace=False)
    pitches = rng.permutation(np.linspace(15, 85, n_speakers)) + rng.uniform(-4, 4, size=n_speakers)
    return [
        VoiceSpec(
            name=f"S{i + 1}",
            voice=f"{_BASES[int(rng.integers(len(_BASES)))]}+{_VARIANTS[int(v)]}",
            pitch=int(np.clip(round(float(pitches[i])), 0, 99)),
            speed=int(rng.integers(140, 191)),
            gain_db=float(rng.uniform(-3.0, 3.0)),
        )
        for i, v in enumerate(variants)
    ]


def _read_wav(path: Path) -> npt.NDArray[np.float32]:
    with wave.open(str(path), "rb") as handle:
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def _write_wav(samples: npt.NDArray[np.float32], path: Path) -> Path:
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path


def _trim(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Cut the leading and trailing silence espeak-ng adds, so reference turns are tight."""
    frame = RATE // 100
    n = len(samples) // frame
    energy = np.sqrt(np.square(samples[: n * frame].reshape(n, frame)).mean(axis=1))
    voiced = np.flatnonzero(energy > 0.01)
    if len(voiced) == 0:
        return samples
    return samples[voiced[0] * frame : (voiced[-1] + 1) * frame]


def _speak(text: str, voice: VoiceSpec, folder: Path) -> npt.NDArray[np.float32]:
    key = hashlib.sha256(f"{voice.voice}|{voice.pitch}|{voice.speed}|{text}".encode()).hexdigest()[:20]
    target = folder / f"turn-{key}.wav"
    if not target.exists():
        raw = folder / f"raw-{key}.wav"
        args = ["-v", voice.voice, "-p", str(voice.pitch), "-s", str(voice.speed), "-w", str(raw), text]
        subprocess.run([_require("espeak-ng"), *args], check=True)
        # espeak-ng writes 22.05 kHz; SoX resamples to the 16 kHz the diarizer works at.
        subprocess.run(
            [_require("sox"), "-q", "-R", "-G", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(target)],
            check=True,
        )
        raw.unlink()
    return _trim(_read_wav(target)) * np.float32(10 ** (voice.gain_db / 20))


def _turn_text(rng: np.random.Generator) -> str:
    kind = rng.random()
    if kind < 0.3:  # short turns: acknowledgements, the hardest to attribute
        return str(_SHORT[int(rng.integers(len(_SHORT)))])
    count = 1 if kind < 0.65 else int(rng.integers(2, 4))
    picks = rng.choice(len(_SENTENCES), size=count, replace=False)
    return " ".join(_SENTENCES[int(i)] for i in picks)


def _add_noise(clean: Path, target: Path, snr_db: float, seed: int) -> None:
    """Mix SoX-generated pink noise into ``clean`` at ``snr_db`` (measured on the whole mix)."""
    sox = _require("sox")
    noise = target.with_suffix(".noise.wav")
    duration = f"{len(_read_wav(clean)) / RATE:.3f}"
    # -R makes SoX's noise generator repeatable; the seed picks one of a few noise colours.
    colour = ("pinknoise", "brownnoise", "whitenoise")[seed % 3]
    subprocess.run(
        [
            sox,
            "-q",
            "-R",
            "-n",
            "-r",
            str(RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(noise),
            "synth",
            duration,
            colour,
            "vol",
            "0.3",
        ],
        check=True,
    )
    speech_rms = float(np.sqrt(np.mean(np.square(_read_wav(clean)))))
    noise_rms = float(np.sqrt(np.mean(np.square(_read_wav(noise))))) or 1e-9
    gain = speech_rms / noise_rms / 10 ** (snr_db / 20)
    subprocess.run(
        [sox, "-q", "-R", "-m", "-v", "1", str(clean), "-v", f"{gain:.6f}", str(noise), "-b", "16", str(target)],
        check=True,
    )
    noise.unlink()


def make_meeting(
    n_speakers: int,
    *,
    seed: int,
    duration_s: float,
    folder: Path,
    overlap_probability: float = 0.2,
    snr_db: float | None = None,
) -> Meeting:
    """Generate (or reuse) a meeting of about ``duration_s`` seconds with ``n_speakers`` voices.

    Every speaker talks in the first round, then the next speaker is drawn at random (never the
    one who just spoke). ``snr_db`` defaults to a seeded value between 12 and 25 dB.
    """
    rng = np.random.default_rng([n_speakers, seed])
    folder.mkdir(parents=True, exist_ok=True)
    voices = voices_for(n_speakers, rng)
    snr = float(rng.uniform(12.0, 25.0)) if snr_db is None else snr_db
    order = list(rng.permutation(n_speakers))
    pieces: list[tuple[int, float, npt.NDArray[np.float32]]] = []
    cursor = 0.0
    previous: int | None = None
    last_duration = 0.0
    while cursor < duration_s or order:
        speaker = int(order.pop(0)) if order else int(rng.choice([s for s in range(n_speakers) if s != previous]))
        audio = _speak(_turn_text(rng), voices[speaker], folder)
        length = len(audio) / RATE
        if previous is not None and rng.random() < overlap_probability:
            # Overlap the end of the previous turn, never by more than a third of either turn.
            start = cursor - min(float(rng.uniform(0.3, 1.2)), last_duration / 3, length / 3)
        else:
            start = cursor + float(rng.uniform(0.1, 0.9))
        pieces.append((speaker, start, audio))
        cursor, previous, last_duration = max(cursor, start + length), speaker, length
    total = int((cursor + 0.5) * RATE)
    mix = np.zeros(total, dtype=np.float32)
    turns = []
    for speaker, start, audio in pieces:
        lo = round(start * RATE)
        mix[lo : lo + len(audio)] += audio
        turns.append(Turn(voices[speaker].name, round(lo / RATE, 3), round((lo + len(audio)) / RATE, 3)))
    peak = float(np.max(np.abs(mix))) or 1.0
    tag = f"meeting-{n_speakers}spk-seed{seed}-{int(duration_s)}s"
    clean = _write_wav(mix * np.float32(0.7 / peak), folder / f"{tag}.clean.wav")
    target = folder / f"{tag}.wav"
    _add_noise(clean, target, snr, seed)
    clean.unlink()
    return Meeting(path=target, turns=tuple(turns), duration=total / RATE, voices=tuple(voices))
