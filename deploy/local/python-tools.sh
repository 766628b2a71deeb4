#!/usr/bin/env bash
# Provides .tools/py: a Python virtual environment with confluent-kafka
# (librdkafka, with every Kafka codec built in), for the tests that check
# what a non-Java, non-kafkajs producer writes, and schemathesis, which
# fuzzes the admin API against its OpenAPI document
# (test/e2e/admin-api-fuzz.test.ts). From PyPI, pinned; idempotent.
set -euo pipefail
CONFLUENT_KAFKA_VERSION="${CONFLUENT_KAFKA_VERSION:-2.16.1}"
# The fuzz test's CLI flags and schemathesis.toml keys are this version's.
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/py"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sys; from importlib.metadata import version; sys.exit(version('confluent-kafka') != '$CONFLUENT_KAFKA_VERSION' or version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  exit 0
fi
command -v python3 >/dev/null || { echo "python-tools: python3 is required (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "schemathesis==$SCHEMATHESIS_VERSION"
echo "python-tools: confluent-kafka $("$venv/bin/python" -c 'import confluent_kafka; print(confluent_kafka.version(), "with librdkafka", confluent_kafka.libversion()[0])'), schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') in $venv"
