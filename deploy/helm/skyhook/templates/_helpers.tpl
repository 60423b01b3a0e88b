{{/* The release's resource names: skyhook-api, skyhook-dispatcher, … for a release named skyhook. */}}
{{- define "skyhook.fullname" -}}
{{- if contains "skyhook" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-skyhook" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every resource; `component` is added where there is one. */}}
{{- define "skyhook.labels" -}}
app.kubernetes.io/name: skyhook
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: skyhook
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* What a component's Deployment selects: stable across upgrades (selectors are immutable). */}}
{{- define "skyhook.selectorLabels" -}}
app.kubernetes.io/name: skyhook
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "skyhook.image" -}}
{{- if .Values.image.tag -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- else -}}
{{ .Values.image.repository }}
{{- end -}}
{{- end -}}

{{/*
The Secret's keys each service reads, and whether it may start without one: DATABASE_URL for the
api and history, the master keys for the api and the dispatcher (who encrypt and decrypt signing
secrets), the admin token for the api, Kafka credentials for every Kafka client.
*/}}
{{- define "skyhook.secretKeys" -}}
api:
  - { key: DATABASE_URL, optional: false }
  - { key: SECRETS_MASTER_KEY, optional: false }
  - { key: SECRETS_PREVIOUS_MASTER_KEYS, optional: true }
  - { key: SKYHOOK_ADMIN_TOKEN, optional: true }
  - { key: KAFKA_SASL_USERNAME, optional: true }
  - { key: KAFKA_SASL_PASSWORD, optional: true }
fanout:
  - { key: KAFKA_SASL_USERNAME, optional: true }
  - { key: KAFKA_SASL_PASSWORD, optional: true }
dispatcher:
  - { key: SECRETS_MASTER_KEY, optional: false }
  - { key: SECRETS_PREVIOUS_MASTER_KEYS, optional: true }
  - { key: KAFKA_SASL_USERNAME, optional: true }
  - { key: KAFKA_SASL_PASSWORD, optional: true }
history:
  - { key: DATABASE_URL, optional: false }
  - { key: KAFKA_SASL_USERNAME, optional: true }
  - { key: KAFKA_SASL_PASSWORD, optional: true }
portal: []
{{- end -}}
