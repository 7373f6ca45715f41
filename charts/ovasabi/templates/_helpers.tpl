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

{{/* The platform's access table (files/access.yaml, a link to protos/ovasabi/access.yaml), as YAML (use with fromYaml). */}}
{{- define "ovasabi.access" -}}
{{ .Files.Get "files/access.yaml" }}
{{- end }}

{{/*
The enabled apps that may call app .name and the RPCs each may call (operation names /package.Service/Method), as a
JSON object: what the access table lets each app call among the gRPC services .name serves. With the externalCallers,
its only invokers.
*/}}
{{- define "ovasabi.callers" -}}
{{- $access := include "ovasabi.access" .root | fromYaml -}}
{{- $serves := (get $access.apps .name | default dict).serves | default list -}}
{{- $enabled := include "ovasabi.enabledApps" .root | fromJsonArray -}}
{{- $callers := dict -}}
{{- range $caller, $entry := $access.apps }}
{{- if and (has $caller $enabled) (ne $caller $.name) }}
{{- $operations := list }}
{{- range $entry.calls }}{{ if has (first (splitList "/" .)) $serves }}{{ $operations = append $operations (printf "/%s" .) }}{{ end }}{{ end }}
{{- if $operations }}{{ $_ := set $callers $caller $operations }}{{ end }}
{{- end }}
{{- end -}}
{{- $callers | toJson -}}
{{- end }}

{{/* What an external caller (values externalCallers, e.g. an API gateway) reaches on app .name: its gRPC services, health and reflection, never Dapr's AppCallback. */}}
{{- define "ovasabi.externalOperations" -}}
{{- $access := include "ovasabi.access" .root | fromYaml -}}
{{- $operations := list -}}
{{- range (get $access.apps .name | default dict).serves }}{{ $operations = append $operations (printf "/%s/*" .) }}{{ end -}}
{{- concat $operations (list "/grpc.health.v1.Health/*" "/grpc.reflection.v1.ServerReflection/*" "/grpc.reflection.v1alpha.ServerReflection/*") | toJson -}}
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

{{/* The Secret holding app .name's API token (key token): one per app, so no pod can pose as another app's sidecar. */}}
{{- define "ovasabi.appApiTokenSecret" -}}
{{ printf "%s-%s" (.root.Values.security.appApiToken.existingSecretPrefix | default (printf "%s-app-api-token" .root.Release.Name)) .name }}
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
