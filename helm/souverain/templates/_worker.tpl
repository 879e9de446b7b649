{{/*
A job-worker Deployment (`assistant worker`). Shared by the CPU worker pool and the optional GPU
transcription pool. Call with (dict "ctx" $ "component" "worker" "cfg" .Values.worker "gpu" 0 "image" "...").
*/}}
{{- define "souverain.workerDeployment" -}}
{{- $ctx := .ctx }}
{{- $cfg := .cfg }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "souverain.fullname" $ctx }}-{{ .component }}
  labels:
    {{- include "souverain.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
spec:
  replicas: {{ $cfg.replicaCount }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "souverain.selectorLabels" (dict "ctx" $ctx "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "souverain.podLabels" (dict "ctx" $ctx "component" .component) | nindent 8 }}
      annotations:
        {{- include "souverain.configChecksum" $ctx | nindent 8 }}
        {{- with $cfg.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "souverain.podSpecCommon" $ctx | nindent 6 }}
      # Long jobs get time to finish (or to be re-queued) on SIGTERM.
      terminationGracePeriodSeconds: {{ $cfg.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: {{ .image }}
          imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
          args:
            - assistant
            - worker
          envFrom:
            - configMapRef:
                name: {{ include "souverain.fullname" $ctx }}-config
          env:
            {{- include "souverain.secretEnv" $ctx | nindent 12 }}
            {{- include "souverain.runtimeEnv" $ctx | nindent 12 }}
            - name: SOUVERAIN_WORKER_HEARTBEAT_FILE
              value: {{ $ctx.Values.worker.heartbeatFile | quote }}
            {{- with $cfg.extraEnv }}
            {{- include "souverain.extraEnv" . | nindent 12 }}
            {{- end }}
          securityContext:
            {{- toYaml $ctx.Values.containerSecurityContext | nindent 12 }}
          resources:
            {{- $resources := deepCopy $cfg.resources }}
            {{- if .gpu }}
            {{- $_ := set $resources.limits .gpuResourceName (int .gpu) }}
            {{- $_ := set $resources.requests .gpuResourceName (int .gpu) }}
            {{- end }}
            {{- toYaml $resources | nindent 12 }}
          {{- $probe := include "souverain.heartbeatProbe" (dict "file" $ctx.Values.worker.heartbeatFile "maxAge" $ctx.Values.worker.heartbeatMaxAgeSeconds) }}
          # No HTTP port: the worker proves it is alive by touching its heartbeat file every few seconds.
          startupProbe:
            {{- $probe | nindent 12 }}
            {{- toYaml $cfg.startupProbe | nindent 12 }}
          livenessProbe:
            {{- $probe | nindent 12 }}
            {{- toYaml $cfg.livenessProbe | nindent 12 }}
          volumeMounts:
            {{- include "souverain.appVolumeMounts" $ctx | nindent 12 }}
      volumes:
        {{- include "souverain.appVolumes" $ctx | nindent 8 }}
      {{- with $cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
