#!/usr/bin/env bash
# Provides .tools/py: a Python virtual environment with confluent-kafka
# (librdkafka, with every Kafka codec built in), for the tests that check
# what a non-Java, non-kafkajs producer writes, and schemathesis, which
# fuzzes the admin API against its OpenAPI document
# (test/e2e/admin-api-fuzz.test.ts), and fastavro, with which a test reads
# the attempts topic as a SIEM would. From PyPI, pinned; idempotent.
set -euo pipefail
CONFLUENT_KAFKA_VERSION="${CONFLUENT_KAFKA_VERSION:-2.16.1}"
# The fuzz test's CLI flags and schemathesis.toml keys are this version's.
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
# A SIEM's Avro reader for the attempts topic (test/e2e/history-siem.test.ts).
FASTAVRO_VERSION="${FASTAVRO_VERSION:-1.12.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/py"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sys; from importlib.metadata import version; sys.exit(version('confluent-kafka') != '$CONFLUENT_KAFKA_VERSION' or version('schemathesis') != '$SCHEMATHESIS_VERSION' or version('fastavro') != '$FASTAVRO_VERSION')" 2>/dev/null; then
  exit 0
fi
command -v python3 >/dev/null || { echo "python-tools: python3 is required (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" "fastavro==$FASTAVRO_VERSION"
echo "python-tools: confluent-kafka $("$venv/bin/python" -c 'import confluent_kafka; print(confluent_kafka.version(), "with librdkafka", confluent_kafka.libversion()[0])'), schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') in $venv"
