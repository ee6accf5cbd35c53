{{/* Chart name, truncated to 63 characters. */}}
{{- define "connect-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-connect-operator unless the release name already contains the chart name. */}}
{{- define "connect-operator.fullname" -}}
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

{{- define "connect-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "connect-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "connect-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "connect-operator.labels" -}}
helm.sh/chart: {{ include "connect-operator.chart" . }}
{{ include "connect-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: connect-operator
{{- end }}

{{- define "connect-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "connect-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator's own user name, as the API server reports it in admission requests. */}}
{{- define "connect-operator.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "connect-operator.serviceAccountName" .) }}
{{- end }}

{{- define "connect-operator.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- /* tag@digest: the runtime pulls by the digest alone; the tag stays for people reading the pod spec. */}}
{{- if .Values.image.digest }}{{ printf "%s@%s" $ref .Values.image.digest }}{{ else }}{{ $ref }}{{ end }}
{{- end }}

{{- define "connect-operator.webhookServiceName" -}}
{{- include "connect-operator.fullname" . }}
{{- end }}

{{- define "connect-operator.certificateName" -}}
{{- printf "%s-webhook" (include "connect-operator.fullname" .) }}
{{- end }}

{{/* Cluster-scoped names carry the release's full name, so two releases in one cluster never overwrite each other. */}}
{{- define "connect-operator.webhookConfigurationName" -}}
{{- .Values.webhook.configurationName | default (include "connect-operator.fullname" .) }}
{{- end }}

{{- define "connect-operator.userRoleName" -}}
{{- printf "%s-%s" (include "connect-operator.fullname" .root) .role | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Combinations the schema cannot express (or cannot explain well). Included by the Deployment, so every render
checks them.
*/}}
{{- define "connect-operator.validate" -}}
{{- if and (not .Values.operator.leaderElection.enabled) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "operator.leaderElection.enabled=false with replicaCount=%d: every replica would reconcile the same connectors at once. Enable leader election or set replicaCount=1." (int .Values.replicaCount)) }}
{{- end }}
{{- with .Values.podDisruptionBudget }}
{{- /* Percentages ("50%") scale with the replicas; only a fixed number can pin every pod. */}}
{{- if and .enabled (not (kindIs "invalid" .minAvailable)) (not (kindIs "string" .minAvailable)) }}
{{- if ge (int .minAvailable) (int $.Values.replicaCount) }}
{{- fail (printf "podDisruptionBudget.minAvailable=%d with replicaCount=%d would block every node drain. Use maxUnavailable (the default) or more replicas." (int .minAvailable) (int $.Values.replicaCount)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The ClusterRole the operator binds in each department namespace to read Secrets there (and the RoleBindings' name). */}}
{{- define "connect-operator.secretsReaderName" -}}
{{- printf "%s-secrets-reader" (include "connect-operator.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end }}
