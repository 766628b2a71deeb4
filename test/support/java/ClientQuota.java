import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;

/**
 * Sets (or, with "none", removes) a broker-side produce quota for one client
 * id: the broker then throttles that client's produce requests, delaying its
 * acknowledgements. Used by the handover test to slow an old owner's parks.
 *
 * Usage: java -cp '<kafka libs>/*' ClientQuota.java <brokers> <client-id> <bytes-per-second|none>
 */
public class ClientQuota {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    ClientQuotaEntity entity = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, args[1]));
    Double rate = "none".equals(args[2]) ? null : Double.valueOf(args[2]);
    try (Admin admin = Admin.create(props)) {
      admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", rate))))).all().get();
    }
    System.out.println("ok");
  }
}
