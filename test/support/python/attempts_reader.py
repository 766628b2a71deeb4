"""A SIEM's view of the attempts topic: librdkafka (confluent-kafka) reads
it from the start, and each value is decoded as any Confluent Avro consumer
would: magic byte 0, the 4-byte schema id, the writer schema fetched from the
registry by that id, Avro binary read with fastavro. argv: bootstrap servers,
registry base URL, topic, number of records to read. Prints one JSON object
per record (the decoded fields, longs as numbers), then "read N"."""
import io
import json
import struct
import sys
import urllib.request
import uuid

import fastavro
from confluent_kafka import Consumer

brokers, registry, topic, expected = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], int(sys.argv[4])
schemas = {}


def writer_schema(schema_id):
    if schema_id not in schemas:
        with urllib.request.urlopen(f"{registry}/schemas/ids/{schema_id}", timeout=10) as response:
            schemas[schema_id] = fastavro.parse_schema(json.loads(json.loads(response.read())["schema"]))
    return schemas[schema_id]


consumer = Consumer({
    "bootstrap.servers": brokers,
    "group.id": f"siem-reader-{uuid.uuid4()}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
count = 0
idle = 0
try:
    while count < expected and idle < 60:
        message = consumer.poll(1.0)
        if message is None:
            idle += 1
            continue
        if message.error():
            raise SystemExit(f"consume error: {message.error()}")
        idle = 0
        value = message.value()
        magic, schema_id = struct.unpack(">bI", value[:5])
        if magic != 0:
            raise SystemExit(f"not Confluent wire format at offset {message.offset()}")
        record = fastavro.schemaless_reader(io.BytesIO(value[5:]), writer_schema(schema_id))
        record["key"] = message.key().decode("utf-8")
        print(json.dumps(record, default=str), flush=True)
        count += 1
finally:
    consumer.close()
print(f"read {count}", flush=True)
