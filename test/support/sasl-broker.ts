import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { freePort, tlsListenerProps, type TestCertificates } from './tls-broker.js';

export interface SaslBroker {
  broker: BrokerHandle;
  /** SASL_PLAINTEXT with SCRAM-SHA-512. */
  sasl: string;
  /** SASL_SSL with SCRAM-SHA-512, the test CA's certificate. */
  saslSsl: string;
  /** PLAINTEXT (no authentication). */
  plain: string;
}

const scram = (name: string) => ({
  [`listener.name.${name}.sasl.enabled.mechanisms`]: 'SCRAM-SHA-512',
  [`listener.name.${name}.scram-sha-512.sasl.jaas.config`]:
    'org.apache.kafka.common.security.scram.ScramLoginModule required;',
});

/** A real broker with SCRAM-SHA-512 listeners (plain and TLS) and one user, made at format time. */
export async function startSaslBroker(
  user: { name: string; password: string },
  certs: TestCertificates,
): Promise<SaslBroker> {
  const [port, controllerPort, saslPort, saslSslPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const at = (name: string, listenerPort: number) => `${name}://127.0.0.1:${String(listenerPort)}`;
  const advertised = [at('PLAINTEXT', port), at('SASL', saslPort), at('SASLSSL', saslSslPort)];
  const broker = await startBroker({
    port,
    controllerPort,
    formatArgs: ['--add-scram', `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`],
    extraProps: {
      listeners: [...advertised, at('CONTROLLER', controllerPort)].join(','),
      'advertised.listeners': advertised.join(','),
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,SASL:SASL_PLAINTEXT,SASLSSL:SASL_SSL,CONTROLLER:PLAINTEXT',
      ...scram('sasl'),
      ...scram('saslssl'),
      ...tlsListenerProps('saslssl', certs),
    },
  });
  return {
    broker,
    sasl: `127.0.0.1:${String(saslPort)}`,
    saslSsl: `127.0.0.1:${String(saslSslPort)}`,
    plain: `127.0.0.1:${String(port)}`,
  };
}
