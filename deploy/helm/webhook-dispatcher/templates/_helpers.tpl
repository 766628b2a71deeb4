{{/*
The chart name, or nameOverride; at most 63 characters (a DNS label).
*/}}
{{- define "webhook-dispatcher.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of every resource: fullnameOverride, or "<release>-<name>"
(just the release name when it already contains the chart name), truncated to
63 characters because some Kubernetes name fields are limited to that.
*/}}
{{- define "webhook-dispatcher.fullname" -}}
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

{{/*
The namespace of every object: namespaceOverride (an umbrella chart that
puts this subchart elsewhere), or the release's.
*/}}
{{- define "webhook-dispatcher.namespace" -}}
{{- .Values.namespaceOverride | default .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
"name-version" for the helm.sh/chart label ("+" is not allowed in labels).
*/}}
{{- define "webhook-dispatcher.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: the immutable subset that Deployment and Service select on.
Never add a label here that can change between releases.
*/}}
{{- define "webhook-dispatcher.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webhook-dispatcher.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of every object: the selector labels plus the descriptive ones.
*/}}
{{- define "webhook-dispatcher.labels" -}}
helm.sh/chart: {{ include "webhook-dispatcher.chart" . }}
{{ include "webhook-dispatcher.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: dispatcher
app.kubernetes.io/part-of: webhook-dispatcher
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The annotations block of an object's metadata: commonAnnotations and the
object's own (which win); nothing when both are empty. Takes (dict "ctx" $
"extra" <map>).
*/}}
{{- define "webhook-dispatcher.annotations" -}}
{{- with merge (dict) (.extra | default dict) (.ctx.Values.commonAnnotations | default dict) }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Every Secret the pods read, comma-separated, for Stakater Reloader's
secret.reloader.stakater.com/reload: a Secret managed outside the chart
(secrets.existingSecret, certificates renewed by cert-manager) then rolls the
pods when it changes, as checksum/secret does for the chart's own Secret.
*/}}
{{- define "webhook-dispatcher.secretsRead" -}}
{{- $v := .Values }}
{{- $names := list (include "webhook-dispatcher.secretName" .) $v.subscriptionsFile.secretName $v.kafka.tls.caSecret.name $v.kafka.tls.clientCertSecret.name $v.admin.tls.secretName }}
{{- join "," (without ($names | uniq) "") }}
{{- end }}

{{- define "webhook-dispatcher.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "webhook-dispatcher.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
[registry/]repository:tag[@digest]; an umbrella chart's global.imageRegistry
wins over image.registry, as in Bitnami's and prometheus-community's charts.
*/}}
{{- define "webhook-dispatcher.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- $registry := (.Values.global).imageRegistry | default .Values.image.registry }}
{{- $repository := .Values.image.repository }}
{{- if $registry }}{{ $repository = printf "%s/%s" $registry $repository }}{{ end }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" $repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/*
imagePullSecrets and an umbrella chart's global.imagePullSecrets (names or
{name: …}), without repeats, as a LocalObjectReference list.
*/}}
{{- define "webhook-dispatcher.imagePullSecrets" -}}
{{- $names := list }}
{{- range concat ((.Values.global).imagePullSecrets | default list) (.Values.imagePullSecrets | default list) }}
{{- $names = append $names (kindIs "string" . | ternary . "") }}
{{- if kindIs "map" . }}{{ $names = append $names .name }}{{ end }}
{{- end }}
{{- range without ($names | uniq) "" }}
- name: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
The Secret the sensitive variables come from: the user's, or the chart's.
*/}}
{{- define "webhook-dispatcher.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "webhook-dispatcher.fullname" .) }}
{{- end }}

{{/*
The dispatcher's non-secret environment, one variable per key, in the
dispatcher's own names (services/dispatcher/src/config.ts). Every setting is
written out, defaults included, so the ConfigMap shows the effective
configuration. Lists are joined with commas; an empty list is "none".
*/}}
{{- define "webhook-dispatcher.env" -}}
{{- $v := .Values -}}
KAFKA_BROKERS: {{ $v.kafka.brokers | quote }}
KAFKA_CLIENT_ID: {{ $v.kafka.clientId | quote }}
KAFKA_COMPRESSION: {{ $v.kafka.compression | quote }}
KAFKA_GROUP_ID: {{ $v.kafka.groupId | quote }}
KAFKA_SESSION_TIMEOUT_MS: {{ int64 $v.kafka.sessionTimeoutMs | toString | quote }}
HANDOVER_WAIT_MS: {{ $v.kafka.handoverWaitMs | toString | quote }}
SCHEMA_REGISTRY_URL: {{ $v.schemaRegistry.url | quote }}
SOURCE_TOPICS: {{ join "," $v.kafka.sourceTopics | quote }}
RETRY_TOPIC_SUFFIX: {{ $v.kafka.retryTopicSuffix | quote }}
DEAD_LETTER_TOPIC: {{ $v.kafka.deadLetterTopic | quote }}
DEAD_LETTER_STATE_TOPIC: {{ $v.kafka.deadLetterStateTopic | quote }}
ENDPOINT_EVENTS_TOPIC: {{ $v.kafka.endpointEventsTopic | quote }}
HISTORY_ENABLED: {{ $v.history.enabled | toString | quote }}
HISTORY_TOPIC: {{ $v.history.topic | quote }}
HISTORY_TOPIC_PARTITIONS: {{ int64 $v.history.topicPartitions | toString | quote }}
HISTORY_TOPIC_RETENTION_HOURS: {{ int64 $v.history.topicRetentionHours | toString | quote }}
HISTORY_STORE: {{ $v.history.store | quote }}
HISTORY_SQLITE_PATH: "/var/lib/webhook-dispatcher/history/history.sqlite"
HISTORY_RETENTION_DAYS: {{ int64 $v.history.retentionDays | toString | quote }}
HISTORY_RESPONSE_BODY_BYTES: {{ int64 $v.history.responseBodyBytes | toString | quote }}
REPLAY_TOPIC: {{ $v.replay.topic | quote }}
REPLAY_MAX_RANGE_HOURS: {{ int64 $v.replay.maxRangeHours | toString | quote }}
REPLAY_MAX_JOBS_PER_TENANT: {{ int64 $v.replay.maxJobsPerTenant | toString | quote }}
REPLAY_MAX_IN_FLIGHT: {{ int64 $v.replay.maxInFlight | toString | quote }}
REPLAY_KEEP_FINISHED_DAYS: {{ int64 $v.replay.keepFinishedDays | toString | quote }}
TOPIC_REPLICATION_FACTOR: {{ int64 $v.kafka.topicReplicationFactor | toString | quote }}
SUBSCRIPTIONS_TOPIC: {{ $v.kafka.subscriptionsTopic | quote }}
SUBSCRIPTIONS_TOPIC_PARTITIONS: {{ int64 $v.kafka.subscriptionsTopicPartitions | toString | quote }}
SUBSCRIPTIONS_ACCEPT_UNSIGNED_RECORDS: {{ $v.kafka.subscriptionsAcceptUnsignedRecords | toString | quote }}
SUBSCRIPTIONS_FILE: {{ include "webhook-dispatcher.subscriptionsFilePath" . | default "none" | quote }}
ADMIN_PORT: {{ int64 $v.admin.port | toString | quote }}
ADMIN_HOST: {{ $v.admin.host | quote }}
ADMIN_TLS_CERT_FILE: {{ ternary "/etc/webhook-dispatcher/admin-tls/tls.crt" "none" (ne $v.admin.tls.secretName "") | quote }}
ADMIN_TLS_KEY_FILE: {{ ternary "/etc/webhook-dispatcher/admin-tls/tls.key" "none" (ne $v.admin.tls.secretName "") | quote }}
ADMIN_HEADERS_TIMEOUT_MS: {{ int64 $v.admin.headersTimeoutMs | toString | quote }}
ADMIN_REQUEST_TIMEOUT_MS: {{ int64 $v.admin.requestTimeoutMs | toString | quote }}
ADMIN_MAX_CONNECTIONS: {{ int64 $v.admin.maxConnections | toString | quote }}
ADMIN_MAX_ENDPOINTS_PER_TENANT: {{ int64 $v.admin.quotas.maxEndpointsPerTenant | toString | quote }}
ADMIN_TEST_EVENTS_PER_MINUTE: {{ int64 $v.admin.quotas.testEventsPerMinute | toString | quote }}
ADMIN_REQUESTS_PER_SECOND: {{ int64 $v.admin.quotas.requestsPerSecond | toString | quote }}
ADMIN_REQUEST_BURST: {{ int64 $v.admin.quotas.requestBurst | toString | quote }}
PORTAL_LINK_TTL_SECONDS: {{ int64 $v.portal.linkTtlSeconds | toString | quote }}
PORTAL_SESSION_TTL_SECONDS: {{ int64 $v.portal.sessionTtlSeconds | toString | quote }}
PORTAL_SESSIONS_TOPIC: {{ $v.portal.sessionsTopic | quote }}
PORTAL_PUBLIC_URL: {{ $v.portal.publicUrl | default "none" | quote }}
MAX_IN_FLIGHT: {{ int64 $v.engine.maxInFlight | toString | quote }}
ENDPOINT_MAX_IN_FLIGHT: {{ int64 $v.engine.endpointMaxInFlight | toString | quote }}
PARTITION_WINDOW_RECORDS: {{ int64 $v.engine.partitionWindowRecords | toString | quote }}
MEMORY_SOFT_LIMIT_MIB: {{ int64 $v.engine.memorySoftLimitMib | toString | quote }}
RETRY_MAX_PARKED_IN_MEMORY: {{ int64 $v.engine.retryMaxParkedInMemory | toString | quote }}
RETRY_MAX_PARKED_TRACKED: {{ int64 $v.engine.retryMaxParkedTracked | toString | quote }}
CIRCUIT_FAILURE_THRESHOLD: {{ int64 $v.delivery.circuitFailureThreshold | toString | quote }}
CIRCUIT_OPEN_MS: {{ int64 $v.delivery.circuitOpenMs | toString | quote }}
AUTO_DISABLE_AFTER_HOURS: {{ int64 $v.delivery.autoDisableAfterHours | toString | quote }}
COMMIT_INTERVAL_MS: {{ int64 $v.engine.commitIntervalMs | toString | quote }}
CONNECT_TIMEOUT_MS: {{ int64 $v.delivery.connectTimeoutMs | toString | quote }}
DELIVERY_TIMEOUT_MS: {{ int64 $v.delivery.deliveryTimeoutMs | toString | quote }}
DELIVERY_MAX_POOLS: {{ int64 $v.delivery.maxPools | toString | quote }}
RETRY_SCHEDULE_MS: {{ include "webhook-dispatcher.joinIntegers" $v.delivery.retryScheduleMs | quote }}
RETRY_MAX_AGE_SECONDS: {{ int64 $v.delivery.retryMaxAgeSeconds | toString | quote }}
RETRY_AFTER_MAX_MS: {{ int64 $v.delivery.retryAfterMaxMs | toString | quote }}
SCHEMA_LOOKUP_RETRIES: {{ int64 $v.schemaRegistry.lookupRetries | toString | quote }}
SHUTDOWN_DEADLINE_MS: {{ int64 $v.engine.shutdownDeadlineMs | toString | quote }}
HTTP_PORT: {{ int64 $v.metrics.port | toString | quote }}
HTTP_HOST: {{ $v.metrics.host | quote }}
SSRF_ALLOW_CIDRS: {{ join "," $v.delivery.ssrfAllowCidrs | default "none" | quote }}
ALLOW_HTTP: {{ $v.delivery.allowHttp | toString | quote }}
WEBHOOK_PROXY_URL: {{ $v.delivery.proxyUrl | default "none" | quote }}
USER_AGENT_VERSION: {{ $v.delivery.userAgentVersion | toString | quote }}
LOG_LEVEL: {{ $v.logLevel | quote }}
KAFKA_SSL: {{ $v.kafka.tls.enabled | toString | quote }}
KAFKA_SSL_CA_FILE: {{ ternary (printf "/etc/webhook-dispatcher/kafka-ca/%s" $v.kafka.tls.caSecret.key) "none" (ne $v.kafka.tls.caSecret.name "") | quote }}
KAFKA_SSL_CERT_FILE: {{ ternary (printf "/etc/webhook-dispatcher/kafka-client/%s" $v.kafka.tls.clientCertSecret.certKey) "none" (ne $v.kafka.tls.clientCertSecret.name "") | quote }}
KAFKA_SSL_KEY_FILE: {{ ternary (printf "/etc/webhook-dispatcher/kafka-client/%s" $v.kafka.tls.clientCertSecret.keyKey) "none" (ne $v.kafka.tls.clientCertSecret.name "") | quote }}
KAFKA_ALLOW_PLAINTEXT_SASL: {{ $v.kafka.sasl.allowPlaintext | toString | quote }}
{{- if $v.kafka.sasl.enabled }}
KAFKA_SASL_MECHANISM: {{ $v.kafka.sasl.mechanism | quote }}
{{- end }}
{{- end }}

{{/*
Integers joined with commas. Values from YAML are float64 in templates, and
`join` would print large ones in exponent notation (1.08e+07).
*/}}
{{- define "webhook-dispatcher.joinIntegers" -}}
{{- $out := list }}
{{- range . }}{{ $out = append $out (int64 . | toString) }}{{ end }}
{{- join "," $out }}
{{- end }}

{{/*
resources.limits.memory in MiB, rounded down, or nothing without a limit: a
Kubernetes quantity (1536Mi, 1.5Gi, 2G, 1e9, 1073741824, or a YAML number
of bytes).
*/}}
{{- define "webhook-dispatcher.memoryLimitMib" -}}
{{- $raw := dig "limits" "memory" "" (.Values.resources | default dict) }}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "m" 0.001 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "P" 1000000000000000 "" 1 }}
{{- if or (kindIs "float64" $raw) (kindIs "int" $raw) (kindIs "int64" $raw) }}
{{- floor (divf (float64 $raw) 1048576) | int64 }}
{{- else if ne (toString $raw) "" }}
{{- $q := toString $raw }}
{{- $unit := regexFind "(Ki|Mi|Gi|Ti|Pi|m|k|M|G|T|P)?$" $q }}
{{- $number := trimSuffix $unit $q }}
{{- if or (not (hasKey $units $unit)) (not (regexMatch "^[0-9]+(\\.[0-9]+)?([eE][0-9]+)?$" $number)) }}
{{- fail (printf "resources.limits.memory %q: give a Kubernetes quantity such as 1536Mi, from which the chart sets Node's heap limit; or set NODE_OPTIONS in extraEnv yourself" $q) }}
{{- end }}
{{- floor (divf (mulf (float64 $number) (float64 (get $units $unit))) 1048576) | int64 }}
{{- end }}
{{- end }}

{{/*
NODE_OPTIONS with the main thread's heap limit at 3/8 of the memory limit
(services/dispatcher/src/memory/heap-limits.ts, mainHeapLimitMib): V8 would
take half of it and let garbage grow to that, and a burst of parked
deliveries then took the process past a 512 MiB limit (bench/backlog.md).
Nothing without a memory limit, or when extraEnv sets NODE_OPTIONS.
*/}}
{{- define "webhook-dispatcher.nodeOptions" -}}
{{- $own := false }}
{{- range .Values.extraEnv }}{{ if eq (toString .name) "NODE_OPTIONS" }}{{ $own = true }}{{ end }}{{ end }}
{{- $limitMib := include "webhook-dispatcher.memoryLimitMib" . }}
{{- if and (not $own) (ne $limitMib "") }}
{{- printf "--max-old-space-size=%d" (div (mul (int64 $limitMib) 3) 8) }}
{{- end }}
{{- end }}

{{- define "webhook-dispatcher.subscriptionsFilePath" -}}
{{- if .Values.subscriptionsFile.secretName }}
{{- printf "/etc/webhook-dispatcher/subscriptions/%s" .Values.subscriptionsFile.key }}
{{- end }}
{{- end }}

{{/*
Checks across values that the JSON schema cannot express. Every failure is
collected so that one run names all of them.
*/}}
{{- define "webhook-dispatcher.validate" -}}
{{- $v := .Values }}
{{- $errors := list }}
{{- if not $v.kafka.brokers }}
{{- $errors = append $errors "kafka.brokers is required: the Kafka bootstrap servers, comma-separated host:port" }}
{{- end }}
{{- if not $v.schemaRegistry.url }}
{{- $errors = append $errors "schemaRegistry.url is required: the Confluent-compatible schema registry base URL" }}
{{- end }}
{{- if and (not $v.secrets.existingSecret) (not $v.secrets.encryptionKeys) }}
{{- $errors = append $errors "secrets.encryptionKeys (or secrets.existingSecret) is required: AES-256 keys id:base64(32 bytes) that encrypt endpoint secrets at rest; keep a copy outside the cluster" }}
{{- end }}
{{- if and (eq $v.history.store "postgres") (not $v.secrets.existingSecret) (not $v.history.postgresUrl) }}
{{- $errors = append $errors "history.postgresUrl (or the key secrets.keys.historyPostgresUrl in secrets.existingSecret) is required with history.store=postgres" }}
{{- end }}
{{- if and (ne $v.history.store "none") (not $v.history.enabled) }}
{{- $errors = append $errors "history.store must be none when history.enabled is false (there is no attempts topic to index)" }}
{{- end }}
{{- if and $v.kafka.sasl.enabled (not $v.secrets.existingSecret) (or (not $v.kafka.sasl.username) (not $v.kafka.sasl.password)) }}
{{- $errors = append $errors "kafka.sasl.username and kafka.sasl.password are required when kafka.sasl.enabled (or put them in secrets.existingSecret)" }}
{{- end }}
{{- if and $v.kafka.sasl.enabled (not $v.kafka.tls.enabled) (not $v.kafka.sasl.allowPlaintext) }}
{{- if eq $v.kafka.sasl.mechanism "plain" }}
{{- $errors = append $errors "kafka.sasl.mechanism plain sends the password in clear text: enable kafka.tls too (kafka.sasl.allowPlaintext only for a local test broker)" }}
{{- else }}
{{- $errors = append $errors (printf "kafka.sasl.mechanism %s without kafka.tls exposes the SCRAM exchange (open to offline guessing) and everything after it: enable kafka.tls too (kafka.sasl.allowPlaintext only for a local test broker)" $v.kafka.sasl.mechanism) }}
{{- end }}
{{- end }}
{{- if gt (int64 $v.engine.endpointMaxInFlight) (int64 $v.engine.maxInFlight) }}
{{- $errors = append $errors (printf "engine.endpointMaxInFlight (%d) must not exceed engine.maxInFlight (%d)" (int64 $v.engine.endpointMaxInFlight) (int64 $v.engine.maxInFlight)) }}
{{- end }}
{{- if lt (int64 $v.delivery.deliveryTimeoutMs) (int64 $v.delivery.connectTimeoutMs) }}
{{- $errors = append $errors (printf "delivery.deliveryTimeoutMs (%d) must be at least delivery.connectTimeoutMs (%d)" (int64 $v.delivery.deliveryTimeoutMs) (int64 $v.delivery.connectTimeoutMs)) }}
{{- end }}
{{- $previous := 0 }}
{{- range $v.delivery.retryScheduleMs }}
{{- if lt (int64 .) (int64 $previous) }}
{{- $errors = append $errors "delivery.retryScheduleMs must not decrease" }}
{{- end }}
{{- $previous = . }}
{{- end }}
{{- range $v.kafka.sourceTopics }}
{{- if hasSuffix $v.kafka.retryTopicSuffix . }}
{{- $errors = append $errors (printf "kafka.sourceTopics: %q ends with the retry suffix %q" . $v.kafka.retryTopicSuffix) }}
{{- end }}
{{- if has . (list $v.kafka.deadLetterTopic $v.kafka.endpointEventsTopic $v.kafka.subscriptionsTopic) }}
{{- $errors = append $errors (printf "kafka.sourceTopics: %q is also the dead-letter, endpoint-events or subscriptions topic" .) }}
{{- end }}
{{- end }}
{{- $graceMs := mul (int64 $v.terminationGracePeriodSeconds) 1000 }}
{{- $neededMs := add (int64 $v.engine.shutdownDeadlineMs) 5000 }}
{{- if lt $graceMs $neededMs }}
{{- $errors = append $errors (printf "terminationGracePeriodSeconds (%d) must be at least engine.shutdownDeadlineMs + 5 s (%d s): Kubernetes would kill the pod before it has drained and committed" (int64 $v.terminationGracePeriodSeconds) (div (add $neededMs 999) 1000)) }}
{{- end }}
{{- if and $v.autoscaling.enabled $v.keda.enabled }}
{{- $errors = append $errors "autoscaling.enabled and keda.enabled are exclusive: KEDA creates its own HorizontalPodAutoscaler" }}
{{- end }}
{{- if and $v.keda.enabled (gt (int64 $v.keda.maxReplicaCount) (int64 $v.kafka.partitions)) }}
{{- $errors = append $errors (printf "keda.maxReplicaCount (%d) exceeds kafka.partitions (%d): instances beyond the source partitions get no work" (int64 $v.keda.maxReplicaCount) (int64 $v.kafka.partitions)) }}
{{- end }}
{{- if and $v.keda.enabled (gt (int64 $v.keda.minReplicaCount) (int64 $v.keda.maxReplicaCount)) }}
{{- $errors = append $errors "keda.minReplicaCount exceeds keda.maxReplicaCount" }}
{{- end }}
{{- if and $v.keda.enabled (eq $v.keda.scaler "prometheus") (not $v.keda.prometheus.serverAddress) }}
{{- $errors = append $errors "keda.prometheus.serverAddress is required with keda.scaler prometheus: the Prometheus that scrapes the dispatchers" }}
{{- end }}
{{- if and (or $v.kafka.tls.caSecret.name $v.kafka.tls.clientCertSecret.name) (not $v.kafka.tls.enabled) }}
{{- $errors = append $errors "kafka.tls.caSecret and kafka.tls.clientCertSecret need kafka.tls.enabled: they apply to TLS connections only" }}
{{- end }}
{{- if and $v.networkPolicy.enabled (not $v.networkPolicy.kafkaTo) }}
{{- $errors = append $errors "networkPolicy.kafkaTo is required with networkPolicy.enabled: the brokers' addresses as NetworkPolicyPeers, e.g. [{ipBlock: {cidr: 10.20.0.0/16}}] ([{ipBlock: {cidr: 0.0.0.0/0}}] allows any address)" }}
{{- end }}
{{- if and $v.networkPolicy.enabled (not $v.networkPolicy.schemaRegistryTo) }}
{{- $errors = append $errors "networkPolicy.schemaRegistryTo is required with networkPolicy.enabled: the registry's addresses as NetworkPolicyPeers" }}
{{- end }}
{{- if lt (int64 $v.kafka.partitions) (len $v.kafka.sourceTopics) }}
{{- $errors = append $errors (printf "kafka.partitions (%d) is fewer than the source topics (%d): it is the partitions of all source topics together" (int64 $v.kafka.partitions) (len $v.kafka.sourceTopics)) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int64 $v.autoscaling.maxReplicas) (int64 $v.kafka.partitions)) }}
{{- $errors = append $errors (printf "autoscaling.maxReplicas (%d) exceeds kafka.partitions (%d): instances beyond the source partitions get no work" (int64 $v.autoscaling.maxReplicas) (int64 $v.kafka.partitions)) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int64 $v.autoscaling.minReplicas) (int64 $v.autoscaling.maxReplicas)) }}
{{- $errors = append $errors "autoscaling.minReplicas exceeds autoscaling.maxReplicas" }}
{{- end }}
{{- if and (not $v.autoscaling.enabled) (not $v.keda.enabled) (gt (int64 $v.replicaCount) (int64 $v.kafka.partitions)) }}
{{- $errors = append $errors (printf "replicaCount (%d) exceeds kafka.partitions (%d): instances beyond the source partitions get no work" (int64 $v.replicaCount) (int64 $v.kafka.partitions)) }}
{{- end }}
{{- if eq (int64 $v.metrics.port) (int64 $v.admin.port) }}
{{- $errors = append $errors (printf "metrics.port and admin.port are both %d: the health/metrics server and the admin API need ports of their own" (int64 $v.admin.port)) }}
{{- end }}
{{- if eq (int64 $v.service.metricsPort) (int64 $v.service.adminPort) }}
{{- $errors = append $errors (printf "service.metricsPort and service.adminPort are both %d" (int64 $v.service.adminPort)) }}
{{- end }}
{{- $runAsUser := $v.securityContext.runAsUser | default $v.podSecurityContext.runAsUser }}
{{- $nonRoot := and (or $v.securityContext.runAsNonRoot $v.podSecurityContext.runAsNonRoot) (ne (toString $runAsUser) "0") }}
{{- if and (not $nonRoot) (not $v.securityContext.readOnlyRootFilesystem) }}
{{- $errors = append $errors "securityContext: running as root (runAsNonRoot false or runAsUser 0) with a writable root filesystem (readOnlyRootFilesystem false) is refused: keep at least one of them" }}
{{- end }}
{{- if and $v.serviceMonitor.enabled $v.serviceMonitor.namespace (ne $v.serviceMonitor.namespace (include "webhook-dispatcher.namespace" .)) (or $v.metrics.token $v.serviceMonitor.bearerToken) }}
{{- $errors = append $errors "serviceMonitor.namespace differs from the release's, but the METRICS_TOKEN Secret the ServiceMonitor sends must be in the ServiceMonitor's namespace: leave serviceMonitor.namespace empty, or put the token there and scrape without the chart's bearerToken" }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\n\nwebhook-dispatcher: invalid values:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}

{{/*
Ports of "host:port" entries, unique and sorted.
*/}}
{{- define "webhook-dispatcher.kafkaPorts" -}}
{{- $ports := list }}
{{- range splitList "," .Values.kafka.brokers }}
{{- $broker := trim . }}
{{- if $broker }}
{{- $ports = append $ports (regexReplaceAll "^.*:" $broker "") }}
{{- end }}
{{- end }}
{{- $ports | uniq | sortAlpha | join "," }}
{{- end }}

{{/*
Port of the registry URL: explicit, or the scheme's default.
*/}}
{{- define "webhook-dispatcher.registryPort" -}}
{{- $url := urlParse .Values.schemaRegistry.url }}
{{- if regexMatch ":[0-9]+$" $url.host }}
{{- regexReplaceAll "^.*:" $url.host "" }}
{{- else if eq $url.scheme "https" }}443
{{- else }}80
{{- end }}
{{- end }}

{{/*
PromQL: the group's lag summed over the source topics, from the dispatchers'
own metric, in the release's namespace and job.
*/}}
{{- define "webhook-dispatcher.lagQuery" -}}
{{- $topics := list }}
{{- range .Values.kafka.sourceTopics }}{{ $topics = append $topics (regexQuoteMeta . | replace "\\" "\\\\") }}{{ end }}
{{- printf "sum(webhooks_consumer_lag{namespace=\"%s\", job=\"%s\", topic=~\"%s\"})" (include "webhook-dispatcher.namespace" .) .Values.metrics.job (join "|" $topics) }}
{{- end }}

{{/*
KEDA's name for the SASL mechanism.
*/}}
{{- define "webhook-dispatcher.kedaSasl" -}}
{{- get (dict "plain" "plaintext" "scram-sha-256" "scram_sha256" "scram-sha-512" "scram_sha512") .Values.kafka.sasl.mechanism }}
{{- end }}

{{/*
Sources allowed to the admin port, as a NetworkPolicyPeer list: adminFrom,
or while networkPolicy.admin.enabled the admin client selector; empty
otherwise, and the policies then close the admin port.
*/}}
{{- define "webhook-dispatcher.adminFrom" -}}
{{- $np := .Values.networkPolicy -}}
{{- if $np.adminFrom }}
{{- toYaml $np.adminFrom }}
{{- else if $np.admin.enabled }}
{{- $peer := dict "podSelector" $np.admin.podSelector }}
{{- with $np.admin.namespaceSelector }}{{ $_ := set $peer "namespaceSelector" . }}{{ end }}
{{- toYaml (list $peer) }}
{{- end }}
{{- end }}
