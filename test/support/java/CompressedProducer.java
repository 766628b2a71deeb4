import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Apache Kafka's own Java producer, with its defaults plus compression.type,
 * for interoperability tests. Arguments: bootstrap servers, codec. Reads
 * records from stdin, one per line: "topic partition|- base64(key) base64(value)"
 * ("-": the default partitioner). Prints "sent N" once all are acknowledged.
 */
public class CompressedProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("compression.type", args[1]);
    props.put("linger.ms", "50");
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    Base64.Decoder base64 = Base64.getDecoder();
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
         BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) continue;
        String[] f = line.split(" ");
        Integer partition = f[1].equals("-") ? null : Integer.valueOf(f[1]);
        sent.add(producer.send(new ProducerRecord<>(f[0], partition, base64.decode(f[2]), base64.decode(f[3]))));
      }
      producer.flush();
      for (Future<RecordMetadata> future : sent) future.get();
    }
    System.out.println("sent " + sent.size());
  }
}
