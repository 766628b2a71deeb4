#!/usr/bin/env bash
# Fetches the pinned Kafka broker and Apicurio Registry from Maven Central into
# a cache outside the repo (WEBHOOKS_CACHE_DIR, default ~/.cache/webhook-dispatcher).
# Idempotent: a complete download leaves a marker file and is not fetched again.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${WEBHOOKS_CACHE_DIR:-$HOME/.cache/webhook-dispatcher}"

command -v mvn >/dev/null || { echo "fetch: Maven (mvn) is required to fetch the local stack; install JDK 17+ and Maven" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch: a JDK 17+ (java) is required to run the local stack" >&2; exit 1; }

kafka_dir="$cache/kafka-$KAFKA_VERSION"
if [ ! -f "$kafka_dir/.complete" ]; then
  echo "fetch: Kafka $KAFKA_VERSION (Scala $SCALA_VERSION) with log4j $LOG4J_VERSION"
  rm -rf "$kafka_dir"
  mvn -q -B -Dstyle.color=never -f "$here/kafka-deps.pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -Dscala.version="$SCALA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    -DincludeScope=runtime -DoutputDirectory="$kafka_dir/libs"
  touch "$kafka_dir/.complete"
fi

apicurio_dir="$cache/apicurio-$APICURIO_VERSION"
if [ ! -f "$apicurio_dir/.complete" ]; then
  echo "fetch: Apicurio Registry $APICURIO_VERSION"
  rm -rf "$apicurio_dir"
  mkdir -p "$apicurio_dir"
  # 3.0.x ships a zip holding a -runner.jar and lib/; 3.1.5+ ship tar.gz.
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:zip:all" \
    -DoutputDirectory="$apicurio_dir/download"
  if command -v unzip >/dev/null; then (cd "$apicurio_dir" && unzip -q download/*.zip)
  else (cd "$apicurio_dir" && jar xf download/*.zip); fi
  rm -rf "$apicurio_dir/download"
  ls "$apicurio_dir"/*-runner.jar >/dev/null
  touch "$apicurio_dir/.complete"
fi
