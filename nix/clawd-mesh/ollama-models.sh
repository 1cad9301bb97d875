#!/bin/sh
# Pulls the node's Ollama models that it does not have yet, so a re-push downloads nothing
# again. The list is one model reference per line; OLLAMA_HOST says where the server listens.
set -eu
list=${1:?usage: ollama-models.sh MODEL_LIST}
while IFS= read -r model; do
  [ -n "$model" ] || continue
  if ollama show "$model" >/dev/null 2>&1; then
    echo "have $model"
  else
    echo "pulling $model"
    ollama pull "$model"
  fi
done <"$list"
