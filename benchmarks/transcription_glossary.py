"""WER and term accuracy of Whisper base on French speech rich in sigles and names, with and without a glossary.

Usage:
    python benchmarks/transcription_glossary.py [--quick] [--model-dir DIR] [--threads N] [--beam N] [--show]

The test set is our own: sentences of a prefecture's meetings full of sigles (CSA, SGAMI, DDETS, SIDPC...) and
surnames (Kerdraon, Le Goff...), synthesised with espeak-ng (Debian package), each sentence its own recording.
Modes compared:
- no glossary;
- the glossary in Whisper's initial prompt (``Transcriber.with_glossary``, the service's setting);
- the same plus the terms as faster-whisper hotwords (``glossary_hotwords=True``);
- the prompt, then the post-correction pass (``correct_transcript``): what the service does;
- post-correction alone (on the first mode's output: what a remote engine without prompts gets).

The glossary is written the way a user would fill it in: the written form of each term, and the spoken form of the
sigles said as a word (« la DREETS » is said « la drèts »), never the transcription errors seen in this run.
WER is computed on lower-case words without accents (so « csa » for « CSA » is not an error there); term accuracy
counts the glossary terms of the references found written exactly (case included) in the transcripts.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the `transcription` package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from transcription import Glossary, GlossaryTerm, Transcriber, correct_transcript, prepare_model  # noqa: E402

GLOSSARY = Glossary.of(
    [
        GlossaryTerm("CSA"),
        GlossaryTerm("SGAMI", ("esse gamie", "sgami")),
        GlossaryTerm("DDETS"),
        GlossaryTerm("DREETS", ("drèts", "drets")),
        GlossaryTerm("SIDPC"),
        GlossaryTerm("ANSSI", ("anssi", "annsi")),
        GlossaryTerm("CNIL", ("quenil", "cnil")),
        GlossaryTerm("ARS"),
        GlossaryTerm("SDIS", ("esdis", "sdis")),
        GlossaryTerm("Kerdraon"),
        GlossaryTerm("Le Goff"),
        GlossaryTerm("Quéméner"),
        GlossaryTerm("Tanguy-Prigent"),
        GlossaryTerm("Morvan"),
        GlossaryTerm("Plougastel"),
    ]
)

SENTENCES = [
    "Le CSA se réunira mardi prochain à la préfecture.",
    "Madame Kerdraon présentera le bilan du SGAMI Ouest.",
    "La DDETS a transmis son rapport sur l'emploi des jeunes.",
    "Monsieur Le Goff représente la DREETS de Bretagne.",
    "Le SIDPC a déclenché le plan orsec après la tempête.",
    "L'ANSSI recommande de changer tous les mots de passe.",
    "La CNIL doit être consultée avant la mise en service.",
    "L'ARS a confirmé trois cas dans le département.",
    "Le SDIS a engagé quarante pompiers cette nuit.",
    "Monsieur Quéméner a rédigé le compte rendu du CSA.",
    "Le SGAMI prendra en charge les véhicules de la police.",
    "Madame Tanguy-Prigent animera le groupe de travail.",
    "Monsieur Morvan a signé la convention avec l'ARS.",
    "La réunion avec la DDETS aura lieu à Plougastel.",
    "Madame Kerdraon et monsieur Le Goff ont voté pour.",
    "Le directeur du SDIS a rencontré l'ANSSI hier.",
    "La DREETS et le SIDPC prépareront l'exercice de crise.",
    "Monsieur Morvan demande l'avis de la CNIL sur le fichier.",
]


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, words in the reference)."""
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1], len(ref)


def _term_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in GLOSSARY.terms:
        counts[entry.term] = len(re.findall(rf"(?<![\w-]){re.escape(entry.term)}(?![\w-])", text))
    return counts


def term_hits(reference: str, hypothesis: str) -> tuple[int, int]:
    """(glossary terms of the reference written exactly in the hypothesis, glossary terms in the reference)."""
    ref, hyp = _term_counts(reference), _term_counts(hypothesis)
    return sum(min(count, hyp[term]) for term, count in ref.items()), sum(ref.values())


def synthesise(folder: Path, sentences: list[str]) -> list[Path]:
    paths = []
    for i, sentence in enumerate(sentences):
        path = folder / f"s{i:02d}.wav"
        subprocess.run(["espeak-ng", "-v", "fr", "-s", "150", "-w", str(path), sentence], check=True)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description="WER and term accuracy with and without a glossary.")
    parser.add_argument("--quick", action="store_true", help="the first 8 sentences only")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: prepared in a temp dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5, help="5: the service default")
    parser.add_argument("--show", action="store_true", help="print each transcript")
    args = parser.parse_args()
    sentences = SENTENCES[:8] if args.quick else SENTENCES

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir = args.model_dir or prepare_model(folder / "whisper-base")
        audio = synthesise(folder, sentences)
        # The service's decoding settings (temperature fallback included: it stops most repetition loops).
        transcriber = Transcriber(model_dir=model_dir, device="cpu", cpu_threads=args.threads, beam_size=args.beam)
        engines = {
            "sans glossaire": transcriber,
            "prompt": transcriber.with_glossary(GLOSSARY),
            "prompt + hotwords": Transcriber(
                model_dir=model_dir,
                device="cpu",
                cpu_threads=args.threads,
                beam_size=args.beam,
                glossary_hotwords=True,
            ).with_glossary(GLOSSARY),
        }
        totals: dict[str, list[int]] = {mode: [0, 0, 0, 0] for mode in MODES}
        seconds = dict.fromkeys(engines, 0.0)
        for reference, path in zip(sentences, audio, strict=True):
            transcripts = {}
            for name, engine in engines.items():
                started = time.perf_counter()
                transcripts[name] = engine.transcribe(path, language="fr")
                seconds[name] += time.perf_counter() - started
            outputs = {name: transcript.text for name, transcript in transcripts.items()}
            outputs["prompt + correction"] = correct_transcript(transcripts["prompt"], GLOSSARY)[0].text
            outputs["correction seule"] = correct_transcript(transcripts["sans glossaire"], GLOSSARY)[0].text
            for mode, text in outputs.items():
                errors, words = word_errors(reference, text)
                hits, terms = term_hits(reference, text)
                for k, value in enumerate((errors, words, hits, terms)):
                    totals[mode][k] += value
            if args.show:
                print(f"\n« {reference} »")
                for mode, text in outputs.items():
                    print(f"  {mode:>20} : {text}")
        print(f"\n{len(sentences)} sentences, {totals[MODES[0]][3]} glossary terms, {len(GLOSSARY)} in the glossary")
        print(f"model: Whisper base int8, CPU, {args.threads} threads, beam {args.beam}, temperature fallback\n")
        print(f"| {'mode':<20} | {'WER':>6} | {'terms right':>11} | {'time s':>6} |")
        print(f"|{'-' * 22}|{'-' * 8}|{'-' * 13}|{'-' * 8}|")
        for mode in MODES:
            errors, words, hits, terms = totals[mode]
            spent = seconds.get(mode.replace(" + correction", ""), seconds["sans glossaire"])
            print(f"| {mode:<20} | {errors / words:>6.1%} | {hits / max(1, terms):>11.1%} | {spent:>6.1f} |")


MODES = ("sans glossaire", "prompt", "prompt + hotwords", "prompt + correction", "correction seule")

if __name__ == "__main__":
    main()
