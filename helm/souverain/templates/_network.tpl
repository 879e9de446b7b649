{{/*
Egress rules shared by the NetworkPolicies, built as data and rendered with toYaml so that optional
destinations leave no holes in the list.
*/}}

{{- define "souverain.dnsRule" -}}
{{- $dns := .Values.networkPolicy.dns }}
{{- toJson (dict
    "to" (list (dict "namespaceSelector" $dns.namespaceSelector "podSelector" $dns.podSelector))
    "ports" (list (dict "port" 53 "protocol" "UDP") (dict "port" 53 "protocol" "TCP"))) }}
{{- end }}

{{/* A destination given as {port, peers}. */}}
{{- define "souverain.peerRule" -}}
{{- toJson (dict "to" .peers "ports" (list (dict "port" (int .port) "protocol" "TCP"))) }}
{{- end }}

{{/* Egress of the migration Job: DNS and the database. */}}
{{- define "souverain.migrationsEgress" -}}
{{- $rules := list (include "souverain.dnsRule" . | fromJson) }}
{{- with .Values.networkPolicy.egress.postgresql }}
{{- if .peers }}{{- $rules = append $rules (include "souverain.peerRule" . | fromJson) }}{{- end }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/* Egress of the API and the workers: DNS, database, queue, vLLM, OIDC issuer, extra rules. */}}
{{- define "souverain.appEgress" -}}
{{- $egress := .Values.networkPolicy.egress }}
{{- $rules := list (include "souverain.dnsRule" . | fromJson) }}
{{- if $egress.postgresql.peers }}
{{- $rules = append $rules (include "souverain.peerRule" $egress.postgresql | fromJson) }}
{{- end }}
{{- if and (eq .Values.config.jobsBackend "redis") $egress.redis.peers }}
{{- $rules = append $rules (include "souverain.peerRule" $egress.redis | fromJson) }}
{{- end }}
{{- if .Values.vllm.enabled }}
{{- $vllmPods := dict "podSelector" (dict "matchLabels" (include "souverain.selectorLabels" (dict "ctx" $ "component" "vllm") | fromYaml)) }}
{{- $rules = append $rules (dict "to" (list $vllmPods) "ports" (list (dict "port" (int .Values.vllm.port) "protocol" "TCP"))) }}
{{- end }}
{{- if and .Values.config.oidc.issuer $egress.oidc.peers }}
{{- $rules = append $rules (include "souverain.peerRule" $egress.oidc | fromJson) }}
{{- end }}
{{- toYaml (concat $rules $egress.extra) }}
{{- end }}
