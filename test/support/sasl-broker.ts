import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { freePort } from './tls-broker.js';

export interface SaslBroker {
  broker: BrokerHandle;
  /** SASL_PLAINTEXT with SCRAM-SHA-512. */
  sasl: string;
  /** PLAINTEXT (no authentication). */
  plain: string;
}

/** A real broker with a SCRAM-SHA-512 listener and one user, created at format time. */
export async function startSaslBroker(user: {
  name: string;
  password: string;
}): Promise<SaslBroker> {
  const [port, controllerPort, saslPort] = [await freePort(), await freePort(), await freePort()];
  const broker = await startBroker({
    port,
    controllerPort,
    formatArgs: ['--add-scram', `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`],
    extraProps: {
      listeners: `PLAINTEXT://127.0.0.1:${String(port)},SASL://127.0.0.1:${String(saslPort)},CONTROLLER://127.0.0.1:${String(controllerPort)}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${String(port)},SASL://127.0.0.1:${String(saslPort)}`,
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,SASL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'listener.name.sasl.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.sasl.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    },
  });
  return { broker, sasl: `127.0.0.1:${String(saslPort)}`, plain: `127.0.0.1:${String(port)}` };
}
