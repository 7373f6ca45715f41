{{/* Labels every object carries. */}}
{{- define "ovasabi.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: ovasabi
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of one app's objects: root and name ({root, name}). */}}
{{- define "ovasabi.appLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: ovasabi
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "ovasabi.selectorLabels" . }}
{{- end }}

{{- define "ovasabi.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* The enabled apps' IDs in name order, as JSON (use with fromJsonArray). */}}
{{- define "ovasabi.enabledApps" -}}
{{- $names := list -}}
{{- range $name, $app := .Values.apps }}{{ if $app.enabled }}{{ $names = append $names $name }}{{ end }}{{ end -}}
{{- $names | sortAlpha | toJson -}}
{{- end }}

{{/* One app's settings: appDefaults overridden by apps.<name>, as YAML (use with fromYaml). */}}
{{- define "ovasabi.app" -}}
{{- $app := mergeOverwrite (deepCopy .root.Values.appDefaults) (deepCopy (get .root.Values.apps .name)) -}}
{{- toYaml $app -}}
{{- end }}

{{/* The enabled apps that call app .name, as JSON: its only allowed invokers. */}}
{{- define "ovasabi.callers" -}}
{{- $callers := list -}}
{{- range $caller := include "ovasabi.enabledApps" .root | fromJsonArray }}
{{- if has $.name (get $.root.Values.apps $caller).calls }}{{ $callers = append $callers $caller }}{{ end }}
{{- end -}}
{{- $callers | toJson -}}
{{- end }}

{{/* The enabled apps that use optional component .name, as JSON: its scopes. */}}
{{- define "ovasabi.componentUsers" -}}
{{- $users := list -}}
{{- range $app := include "ovasabi.enabledApps" .root | fromJsonArray }}
{{- if has $.name (get $.root.Values.apps $app).uses }}{{ $users = append $users $app }}{{ end }}
{{- end -}}
{{- $users | toJson -}}
{{- end }}

{{- define "ovasabi.image" -}}
{{ .root.Values.image.repository }}/{{ .name }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end }}

{{/* The Configuration an app's sidecar loads. */}}
{{- define "ovasabi.configName" -}}
{{ .name }}-dapr-config
{{- end }}

{{- define "ovasabi.signingKeysSecret" -}}
{{ .Values.security.signingKeys.existingSecret | default (printf "%s-auth-signing-keys" .Release.Name) }}
{{- end }}

{{- define "ovasabi.appApiTokenSecret" -}}
{{ .Values.security.appApiToken.existingSecret | default (printf "%s-app-api-token" .Release.Name) }}
{{- end }}

{{/* Restricted pod and container security settings (non-root, read-only root, no privileges). */}}
{{- define "ovasabi.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ovasabi.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
{{- end }}

{{/* The environment every app container gets (the Deployment and the migration Job). */}}
{{- define "ovasabi.appEnv" -}}
- name: ConnectionStrings__Database
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.database.secretName }}
      key: {{ .name }}
{{- end }}
