{{/* Chart name. */}}
{{- define "dcdir.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: "<release>-<chart>", or the release name when it already contains the chart name. */}}
{{- define "dcdir.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dcdir.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "dcdir.labels" -}}
helm.sh/chart: {{ include "dcdir.chart" . }}
{{ include "dcdir.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dcdir
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the dcdir server pods. */}}
{{- define "dcdir.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcdir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of the in-chart Redis objects. */}}
{{- define "dcdir.redis.labels" -}}
helm.sh/chart: {{ include "dcdir.chart" . }}
{{ include "dcdir.redis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.redis.internal.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dcdir
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "dcdir.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcdir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{/* metadata.annotations block (commonAnnotations + extra dict), or nothing. */}}
{{- define "dcdir.annotations" -}}
{{- $all := merge (dict) (.extra | default dict) (.ctx.Values.commonAnnotations | default dict) }}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "dcdir.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dcdir.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "registry/repository[:tag|@digest]" from an image dict; .default is the fallback tag. */}}
{{- define "dcdir.imageRef" -}}
{{- $repo := .image.repository }}
{{- if .image.registry }}{{ $repo = printf "%s/%s" .image.registry .image.repository }}{{ end }}
{{- if .image.digest }}
{{- printf "%s@%s" $repo .image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .default .image.tag) }}
{{- end }}
{{- end }}

{{- define "dcdir.image" -}}
{{- include "dcdir.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) }}
{{- end }}

{{- define "dcdir.redis.image" -}}
{{- include "dcdir.imageRef" (dict "image" .Values.redis.internal.image "default" "7.2.5-bookworm") }}
{{- end }}

{{- define "dcdir.configMapName" -}}
{{- default (printf "%s-config" (include "dcdir.fullname" .)) .Values.config.existingConfigMap }}
{{- end }}

{{/* The world config text: config.world, or the chart's copy of deploy/config/world.yaml. */}}
{{- define "dcdir.worldConfig" -}}
{{- if .Values.config.world }}
{{- .Values.config.world }}
{{- else }}
{{- .Files.Get "files/world.yaml" }}
{{- end }}
{{- end }}

{{- define "dcdir.authSecretName" -}}
{{- default (printf "%s-auth" (include "dcdir.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{- define "dcdir.redis.fullname" -}}
{{- printf "%s-redis" (include "dcdir.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dcdir.redis.headless" -}}
{{- printf "%s-redis-headless" (include "dcdir.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dcdir.redisSecretName" -}}
{{- default (printf "%s-redis" (include "dcdir.fullname" .)) .Values.redis.auth.existingSecret }}
{{- end }}

{{/* The --redis flag value ("" for the embedded store). */}}
{{- define "dcdir.redisUrl" -}}
{{- if eq .Values.redis.mode "external" }}
{{- required "redis.url is required when redis.mode=external" .Values.redis.url }}
{{- else if eq .Values.redis.mode "internal" }}
{{- $r := .Values.redis.internal }}
{{- $full := include "dcdir.redis.fullname" . }}
{{- $headless := include "dcdir.redis.headless" . }}
{{- $hosts := list }}
{{- range $i := until (int $r.replicas) }}
{{- $hosts = append $hosts (printf "%s-%d.%s:%d" $full $i $headless (int $r.sentinelPort)) }}
{{- end }}
{{- printf "redis+sentinel://%s/%s" (join "," $hosts) $r.masterName }}
{{- end }}
{{- end }}

{{/* Whether the server gets a Redis password file. */}}
{{- define "dcdir.redisPassword" -}}
{{- if and (ne .Values.redis.mode "embedded") .Values.redis.auth.enabled }}true{{ end }}
{{- end }}

{{/* Fails on value combinations the schema cannot express. */}}
{{- define "dcdir.validate" -}}
{{- if and (eq .Values.redis.mode "embedded") (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "redis.mode=embedded keeps state in one process: set replicaCount=1 and autoscaling.enabled=false, or use redis.mode=internal/external" }}
{{- end }}
{{- if and (eq .Values.redis.mode "internal") (not .Values.redis.auth.enabled) }}
{{- fail "redis.mode=internal requires redis.auth.enabled=true" }}
{{- end }}
{{- if and (eq .Values.redis.mode "internal") (lt (int .Values.redis.internal.replicas) (int .Values.redis.internal.quorum)) }}
{{- fail "redis.internal.quorum cannot exceed redis.internal.replicas" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) }}
{{- fail "tls.enabled requires tls.existingSecret (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add .Values.preStopSleepSeconds .Values.shutdownGraceSeconds | int) }}
{{- fail "terminationGracePeriodSeconds must be at least preStopSleepSeconds + shutdownGraceSeconds" }}
{{- end }}
{{- if and .Values.auth.token .Values.auth.existingSecret }}
{{- fail "set either auth.token or auth.existingSecret, not both" }}
{{- end }}
{{- if and .Values.redis.auth.password .Values.redis.auth.existingSecret }}
{{- fail "set either redis.auth.password or redis.auth.existingSecret, not both" }}
{{- end }}
{{- end }}
