{{/* Names ---------------------------------------------------------------------------------------------- */}}

{{- define "souverain.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; component names append a suffix, so keep room for it (63 - 16). */}}
{{- define "souverain.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "souverain.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels: call with (dict "ctx" $ "component" "api"). */}}
{{- define "souverain.selectorLabels" -}}
app.kubernetes.io/name: {{ include "souverain.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "souverain.labels" -}}
helm.sh/chart: {{ include "souverain.chart" .ctx }}
{{ include "souverain.selectorLabels" . }}
app.kubernetes.io/part-of: souverain
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{/*
Pod template labels: no chart or app version, so that a chart upgrade that changes nothing in a pod does not
restart it (for vLLM, a Recreate and minutes of model loading).
*/}}
{{- define "souverain.podLabels" -}}
{{ include "souverain.selectorLabels" . }}
app.kubernetes.io/part-of: souverain
{{- end }}

{{/* Selects every pod of this release, whatever the component. */}}
{{- define "souverain.releaseSelector" -}}
app.kubernetes.io/name: {{ include "souverain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "souverain.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "souverain.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "souverain.secretName" -}}
{{- default (printf "%s-secrets" (include "souverain.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "souverain.vllmHost" -}}
{{- printf "%s-vllm" (include "souverain.fullname" .) }}
{{- end }}

{{/* Images ---------------------------------------------------------------------------------------------- */}}

{{/* Call with (dict "image" .Values.image "default" .Chart.AppVersion "suffix" ""). */}}
{{- define "souverain.imageRef" -}}
{{- $tag := printf "%s%s" (default .default .image.tag) (default "" .suffix) }}
{{- if .image.digest }}
{{- printf "%s:%s@%s" .image.repository $tag .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "souverain.image" -}}
{{- include "souverain.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion "suffix" "") }}
{{- end }}

{{/* Configuration -------------------------------------------------------------------------------------- */}}

{{/* The LLM backends list: the bundled vLLM first, then config.llmBackends, as one JSON document. */}}
{{- define "souverain.llmBackends" -}}
{{- $backends := list }}
{{- if .Values.vllm.enabled }}
{{- $backends = append $backends (dict
    "id" .Values.vllm.servedModelName
    "kind" "openai"
    "base_url" (printf "http://%s:%d/v1" (include "souverain.vllmHost" .) (int .Values.vllm.port))
    "model" .Values.vllm.servedModelName
    "sovereign" .Values.vllm.sovereign) }}
{{- end }}
{{- $all := concat $backends .Values.config.llmBackends }}
{{- /* concat of two empty lists is nil, which toJson writes as null */}}
{{- if $all }}{{ toJson $all }}{{ else }}[]{{ end }}
{{- end }}

{{/* Non-secret settings as a flat map of SOUVERAIN_* names to strings (ConfigMap data and Job env). */}}
{{- define "souverain.configData" -}}
SOUVERAIN_ENVIRONMENT: {{ .Values.config.environment | quote }}
SOUVERAIN_DATA_DIR: {{ .Values.config.dataDir | quote }}
SOUVERAIN_JOBS_BACKEND: {{ .Values.config.jobsBackend | quote }}
SOUVERAIN_RUN_WORKER_IN_PROCESS: "false"
{{- /* The migration Job owns schema upgrades; replicas migrating at start would race each other. */}}
SOUVERAIN_MIGRATE_ON_START: "false"
SOUVERAIN_LLM_BACKENDS: {{ include "souverain.llmBackends" . | quote }}
SOUVERAIN_LOG_FORMAT: {{ .Values.config.logFormat | quote }}
SOUVERAIN_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
{{- /* X-Forwarded-For is believed from these only: per-IP lockouts and audit addresses name real clients. */}}
SOUVERAIN_TRUSTED_PROXIES: {{ join "," .Values.config.trustedProxies | quote }}
{{- if .Values.ingress.enabled }}
{{- /* The address users reach: links and the OIDC web sign-in's redirect URL derive from it. */}}
SOUVERAIN_PUBLIC_URL: {{ printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host | quote }}
{{- end }}
{{- with .Values.config.oidc }}
{{- if .issuer }}
SOUVERAIN_OIDC_ISSUER: {{ .issuer | quote }}
SOUVERAIN_OIDC_AUDIENCE: {{ .audience | quote }}
SOUVERAIN_OIDC_CLIENT_ID: {{ .clientId | quote }}
{{- end }}
{{- end }}
{{- with .Values.config.databaseAppRole }}
SOUVERAIN_DATABASE_APP_ROLE: {{ . | quote }}
{{- end }}
{{- with .Values.config.auditCheckpointFile }}
SOUVERAIN_AUDIT_CHECKPOINT_FILE: {{ . | quote }}
{{- end }}
{{- with .Values.config.auditCheckpointKeyFile }}
SOUVERAIN_AUDIT_CHECKPOINT_KEY_FILE: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extraEnv }}
SOUVERAIN_{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Secret-backed variables; required keys make the pod fail to start (not silently run) when missing. */}}
{{- define "souverain.secretEnv" -}}
{{- $secret := include "souverain.secretName" . -}}
- name: SOUVERAIN_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: database-url}
- name: SOUVERAIN_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: secret-key}
- name: SOUVERAIN_SIGNING_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: signing-key}
- name: SOUVERAIN_REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: redis-url, optional: {{ ne .Values.config.jobsBackend "redis" }}}
{{- if .Values.config.oidc.issuer }}
- name: SOUVERAIN_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: oidc-client-secret, optional: true}
{{- end }}
{{- end }}

{{/* Per-component extra SOUVERAIN_* variables (a map without the prefix). */}}
{{- define "souverain.extraEnv" -}}
{{- range $name, $value := . }}
- name: SOUVERAIN_{{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Env common to Python containers: caches under /tmp because the root filesystem is read-only. */}}
{{- define "souverain.runtimeEnv" -}}
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/.cache
- name: HF_HUB_OFFLINE
  value: "1"
{{- end }}

{{/* Pod plumbing -------------------------------------------------------------------------------------- */}}

{{- define "souverain.podSpecCommon" -}}
serviceAccountName: {{ include "souverain.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Volumes of the application pods: writable /tmp and DATA_DIR. */}}
{{- define "souverain.appVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: data
  {{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .Values.persistence.emptyDirSizeLimit }}
  {{- end }}
{{- end }}

{{- define "souverain.appVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.config.dataDir }}
{{- end }}

{{/* Exec probe: the worker's heartbeat file was touched recently. */}}
{{- define "souverain.heartbeatProbe" -}}
exec:
  command:
    - python
    - -c
    - >-
      import os, sys, time;
      sys.exit(0 if time.time() - os.stat({{ .file | quote }}).st_mtime < {{ .maxAge }} else 1)
{{- end }}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "souverain.configChecksum" -}}
checksum/config: {{ include "souverain.configData" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secrets: {{ toJson .Values.secrets.values | sha256sum }}
{{- end }}
{{- end }}
