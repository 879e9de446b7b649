{{/*
Cross-field checks that values.schema.json cannot express. Messages are for the operator, in French.
Included once from configmap.yaml so that `helm template` and `helm install` both stop before rendering.
*/}}
{{- define "souverain.validate" -}}
{{- $placeholders := list "changeme" "change-me" "change_me" "secret" "password" "motdepasse" "placeholder" "example" "default" }}
{{- if not .Values.secrets.existingSecret }}
{{- $v := .Values.secrets.values }}
{{- $required := dict "databaseUrl" $v.databaseUrl "secretKey" $v.secretKey "signingKey" $v.signingKey }}
{{- if eq .Values.config.jobsBackend "redis" }}
{{- $_ := set $required "redisUrl" $v.redisUrl }}
{{- end }}
{{- range $key, $value := $required }}
{{- if not $value }}
{{- fail (printf "secrets.values.%s est requis quand secrets.existingSecret est vide (ou indiquez un Secret existant)." $key) }}
{{- end }}
{{- end }}
{{- range $key := list "secretKey" "signingKey" }}
{{- $value := get $v $key | lower }}
{{- range $placeholders }}
{{- if contains . $value }}
{{- fail (printf "secrets.values.%s ressemble à une valeur d'exemple (%q) : générez une vraie clé." $key .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.config.oidc.issuer .Values.networkPolicy.enabled (not .Values.networkPolicy.egress.oidc.peers) }}
{{- fail "config.oidc.issuer est défini : indiquez networkPolicy.egress.oidc.peers (CIDR du fournisseur OIDC), sinon les NetworkPolicies bloquent la vérification des jetons." }}
{{- end }}
{{- if .Values.vllm.enabled }}
{{- if and .Values.vllm.model.existingClaim .Values.vllm.model.hostPath }}
{{- fail "vllm.model : choisissez existingClaim ou hostPath, pas les deux." }}
{{- end }}
{{- if not (or .Values.vllm.model.existingClaim .Values.vllm.model.hostPath) }}
{{- fail "vllm.model : indiquez existingClaim (recommandé) ou hostPath, le volume qui contient les poids du modèle." }}
{{- end }}
{{- end }}
{{- if and .Values.api.autoscaling.enabled (gt (int .Values.api.autoscaling.minReplicas) (int .Values.api.autoscaling.maxReplicas)) }}
{{- fail "api.autoscaling : minReplicas doit être inférieur ou égal à maxReplicas." }}
{{- end }}
{{- end }}
