"""librdkafka's producer (confluent-kafka) with compression.type = argv[2],
for interoperability tests. argv[1]: bootstrap servers. Reads records from
stdin, one per line: "topic partition|- base64(key) base64(value)" ("-": the
default partitioner, murmur2_random for Java compatibility). Prints "sent N"
once every record is acknowledged."""
import base64
import sys

from confluent_kafka import Producer

errors = []


def delivered(err, _msg):
    if err is not None:
        errors.append(err)


producer = Producer({
    "bootstrap.servers": sys.argv[1],
    "compression.type": sys.argv[2],
    "partitioner": "murmur2_random",
    "enable.idempotence": True,
    "linger.ms": 50,
})
count = 0
for line in sys.stdin:
    if not line.strip():
        continue
    topic, partition, key, value = line.split()
    kwargs = {} if partition == "-" else {"partition": int(partition)}
    producer.produce(topic, key=base64.b64decode(key), value=base64.b64decode(value), on_delivery=delivered, **kwargs)
    producer.poll(0)
    count += 1
left = producer.flush(60)
if errors or left:
    print(f"failed: {errors[:3]} ({left} not flushed)", file=sys.stderr)
    sys.exit(1)
print(f"sent {count}")
