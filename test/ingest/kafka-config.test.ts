import { Readable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerIngestCommands } from '../../src/cli/ingest-commands.js';
import { captureRuntime } from '../../src/cli/runtime.js';
import { loadConfig } from '../../src/config.js';

const fails = (env: Record<string, string>, overrides = {}) => {
  try {
    loadConfig({ SHIPCAST_DB: ':memory:', ...env }, overrides);
  } catch (e) {
    return e as { code: string; field: string; message: string };
  }
  throw new Error('loadConfig accepted the input');
};

describe('Kafka configuration', () => {
  it('defaults to no brokers and the documented group and topic', () => {
    expect(loadConfig({ SHIPCAST_DB: ':memory:' }).kafka).toEqual({
      brokers: [], clientId: 'shipcast', groupId: 'shipcast-ingest', topic: 'shipcast.tracking-events', mailgunTopic: undefined, ssl: false, sasl: undefined,
    });
  });

  it('parses brokers, TLS and SASL; the --kafka flag wins over the environment', () => {
    const k = loadConfig({
      SHIPCAST_KAFKA_BROKERS: 'k1:9092, k2:9093', SHIPCAST_KAFKA_SSL: 'true', SHIPCAST_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      SHIPCAST_KAFKA_SASL_USERNAME: 'ingest', SHIPCAST_KAFKA_SASL_PASSWORD: 'pw', SHIPCAST_KAFKA_MAILGUN_TOPIC: 'mg',
    }).kafka;
    expect(k).toMatchObject({ brokers: ['k1:9092', 'k2:9093'], ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'ingest', password: 'pw' }, mailgunTopic: 'mg' });
    expect(loadConfig({ SHIPCAST_KAFKA_BROKERS: 'k1:9092' }, { kafkaBrokers: '127.0.0.1:19092' }).kafka.brokers).toEqual(['127.0.0.1:19092']);
  });

  it('names the variable (or flag) at fault', () => {
    expect(fails({ SHIPCAST_KAFKA_BROKERS: 'k1' })).toMatchObject({ code: 'BAD_CONFIG', field: 'SHIPCAST_KAFKA_BROKERS', message: expect.stringMatching(/^SHIPCAST_KAFKA_BROKERS: expected host:port/) });
    expect(fails({ SHIPCAST_KAFKA_BROKERS: 'k1:9092,,k2:x' })).toMatchObject({ field: 'SHIPCAST_KAFKA_BROKERS' });
    expect(fails({ SHIPCAST_KAFKA_SSL: 'yes' })).toMatchObject({ field: 'SHIPCAST_KAFKA_SSL' });
    expect(fails({ SHIPCAST_KAFKA_SASL_MECHANISM: 'gssapi' })).toMatchObject({ field: 'SHIPCAST_KAFKA_SASL_MECHANISM' });
    expect(fails({ SHIPCAST_KAFKA_SASL_MECHANISM: 'plain', SHIPCAST_KAFKA_SASL_PASSWORD: 'pw' })).toMatchObject({ field: 'SHIPCAST_KAFKA_SASL_USERNAME' });
    expect(fails({ SHIPCAST_KAFKA_SASL_MECHANISM: 'plain', SHIPCAST_KAFKA_SASL_USERNAME: 'u' })).toMatchObject({ field: 'SHIPCAST_KAFKA_SASL_PASSWORD' });
    expect(fails({}, { kafkaBrokers: 'localhost' })).toMatchObject({ code: 'BAD_CONFIG', field: '--kafka' });
  });

  it('refuses Kafka flags without --kafka, and --kafka without brokers', async () => {
    const run = async (args: string[], env: Record<string, string> = {}) => {
      const program = new Command('shipcast').exitOverride();
      registerIngestCommands(program, captureRuntime({ SHIPCAST_ENV: 'test', SHIPCAST_DB: ':memory:', ...env }), Readable.from([]));
      return program.parseAsync(args, { from: 'user' });
    };
    await expect(run(['ingest', '--topic', 't'])).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'topic' });
    await expect(run(['ingest', '--kafka', '--file', 'x.ndjson'])).rejects.toMatchObject({ field: 'file' });
    await expect(run(['ingest', '--kafka'])).rejects.toMatchObject({ code: 'BAD_CONFIG', field: 'SHIPCAST_KAFKA_BROKERS' });
    await expect(run(['ingest', '--kafka', '127.0.0.1:1', '--idle-exit', 'soon'])).rejects.toMatchObject({ field: 'idle-exit' });
  });
});
