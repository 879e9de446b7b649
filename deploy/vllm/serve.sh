#!/usr/bin/env bash
# Launches vLLM's OpenAI-compatible server on a single GPU host (no Kubernetes), for Souverain to talk to.
# Install once, on the GPU host:   python3 -m venv /opt/vllm && /opt/vllm/bin/pip install 'souverain[gpu]'
# (or `pip install vllm==0.32.0`), then copy the model weights to MODEL_DIR from the administration's own storage.
# Every setting is an environment variable; see README.md beside this file.
set -euo pipefail

: "${MODEL_DIR:?MODEL_DIR : répertoire des poids du modèle (copiés depuis le stockage interne)}"
SERVED_MODEL_NAME=${SERVED_MODEL_NAME:-mistral-small}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8001}
TENSOR_PARALLEL_SIZE=${TENSOR_PARALLEL_SIZE:-1}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-32768}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.90}
MAX_NUM_SEQS=${MAX_NUM_SEQS:-64}
DTYPE=${DTYPE:-auto}
CHAT_TEMPLATE=${CHAT_TEMPLATE:-}
API_KEY_FILE=${API_KEY_FILE:-}
VLLM=${VLLM:-vllm}

if [[ ! -d "$MODEL_DIR" ]]; then
  echo "Erreur : MODEL_DIR=$MODEL_DIR n'existe pas." >&2
  exit 2
fi

args=(
  serve "$MODEL_DIR"
  --served-model-name "$SERVED_MODEL_NAME"
  --host "$HOST" --port "$PORT"
  --tensor-parallel-size "$TENSOR_PARALLEL_SIZE"
  --max-model-len "$MAX_MODEL_LEN"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --max-num-seqs "$MAX_NUM_SEQS"
  --dtype "$DTYPE"
  --enable-prefix-caching
  --disable-log-requests
)
[[ -n "$CHAT_TEMPLATE" ]] && args+=(--chat-template "$CHAT_TEMPLATE")
if [[ -n "$API_KEY_FILE" ]]; then
  args+=(--api-key "$(<"$API_KEY_FILE")")
fi

# No hub access: weights are local, and telemetry stays off.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
exec "$VLLM" "${args[@]}"
