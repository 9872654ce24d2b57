import path from 'node:path';
import { z } from 'zod';
import { ShipcastError } from './errors.js';
import { NBA_ACTION_NAMES } from './domain/nba.js';
import { DEFAULT_NBA_REWARD, type NbaRewardConfig } from './ml/nba/reward.js';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().trim().min(1).optional();
const BROKERS_HINT = 'expected host:port[,host:port…]';
const validBrokers = (s: string) => s.split(',').every((b) => /^[^\s:,]+:\d{1,5}$/.test(b.trim()));

/**
 * Environment variables understood by shipcast. Parsed once in the composition root; nothing else
 * reads `process.env`.
 */
const EnvSchema = z.object({
  SHIPCAST_DB: z.string().default('data/shipcast.duckdb'),
  SHIPCAST_MODELS_DIR: z.string().default('models'),
  SHIPCAST_DATA_DIR: z.string().default('data'),
  SHIPCAST_OLIST_DIR: z.string().default('../shared/data/real/olist-setA'),
  SHIPCAST_OLIST_DIMENSIONS_DIR: z.string().default('../shared/data/real/olist-dimensions-full'),
  SHIPCAST_HOST: z.string().default('127.0.0.1'),
  SHIPCAST_PORT: port.default(4000),
  SHIPCAST_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SHIPCAST_PUBLIC_URL: optionalString,
  SHIPCAST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHIPCAST_SEED: z.coerce.number().int().default(42),
  SHIPCAST_SAMPLE_SHIPMENTS: z.coerce.number().int().positive().default(20_000),
  SHIPCAST_ETA_EPOCHS: z.coerce.number().int().positive().optional(),
  SHIPCAST_TF_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  SHIPCAST_PERSISTED_ONLY: z.enum(['0', '1', 'true', 'false']).default('0'),
  SHIPCAST_WEBHOOK_SECRET: optionalString,
  SHIPCAST_AFTERSHIP_SECRET: optionalString,
  SHIPCAST_EASYPOST_SECRET: optionalString,
  SHIPCAST_SHIPPO_SECRET: optionalString,
  SHIPCAST_LINK_SECRET: optionalString,
  SHIPCAST_MAILER: z.enum(['outbox', 'mailgun']).default('outbox'),
  MAILGUN_API_KEY: optionalString,
  MAILGUN_DOMAIN: optionalString,
  MAILGUN_PROMO_DOMAIN: optionalString,
  MAILGUN_URL: optionalString,
  MAILGUN_WEBHOOK_SIGNING_KEY: optionalString,
  SHIPCAST_PROMO_COMPLAINT_LIMIT: z.coerce.number().min(0).max(1).default(0.001),
  SHIPCAST_PROMO_COMPLAINT_WINDOW_DAYS: z.coerce.number().positive().default(30),
  SHIPCAST_NBA_COSTS: optionalString,
  SHIPCAST_NBA_VALUES: optionalString,
  SHIPCAST_ROLE: z.enum(['writer', 'replica']).default('writer'),
  SHIPCAST_WRITER_URL: z.string().trim().url().optional(),
  SHIPCAST_REPLICA_POLL_SECONDS: z.coerce.number().min(0).default(5),
  SHIPCAST_SNAPSHOT_FILE: optionalString,
  SHIPCAST_SNAPSHOT_EVERY_SECONDS: z.coerce.number().positive().default(300),
  SHIPCAST_KAFKA_BROKERS: z.string().trim().refine(validBrokers, BROKERS_HINT).optional(),
  SHIPCAST_KAFKA_CLIENT_ID: z.string().trim().min(1).default('shipcast'),
  SHIPCAST_KAFKA_GROUP: z.string().trim().min(1).default('shipcast-ingest'),
  SHIPCAST_KAFKA_TOPIC: z.string().trim().min(1).default('shipcast.tracking-events'),
  SHIPCAST_KAFKA_MAILGUN_TOPIC: optionalString,
  SHIPCAST_KAFKA_SSL: z.enum(['0', '1', 'true', 'false']).default('0'),
  SHIPCAST_KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  SHIPCAST_KAFKA_SASL_USERNAME: optionalString,
  SHIPCAST_KAFKA_SASL_PASSWORD: optionalString,
});

/** The validated, typed configuration of one shipcast process. */
export interface Config {
  dbPath: string;
  modelsDir: string;
  dataDir: string;
  olistDir: string;
  olistDimensionsDir: string;
  env: 'development' | 'production' | 'test';
  logLevel: string;
  seed: number;
  sampleShipments: number;
  tfBackend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Maximum ETA training epochs for `start` and `trainModel` (default: the trainer's). */
  etaEpochs?: number;
  http: { host: string; port: number; publicUrl: string; persistedOnly: boolean };
  webhooks: { secrets: string[]; aftershipSecret?: string; easypostSecret?: string; shippoSecret?: string };
  linkSecret?: string;
  mail: {
    provider: 'outbox' | 'mailgun';
    mailgun: { apiKey?: string; domain?: string; promoDomain?: string; url?: string; webhookSigningKey?: string };
    /** Promotional mail stops while its complaint rate (complained / delivered over `windowDays`) is above `complaintLimit` (a fraction: 0.001 = 0.1 %). */
    promoGuardrail: { complaintLimit: number; windowDays: number };
  };
  /** What the next-best-action policy values and what each action costs (docs/NBA.md, "Reward"). */
  nba: { reward: NbaRewardConfig };
  /** Kafka ingestion (docs/SCALE.md, section 2); `brokers` is empty when not configured. */
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    topic: string;
    mailgunTopic?: string;
    ssl: boolean;
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  };
  /** The writer/replica split of docs/SCALE.md (section 4). */
  replication: {
    /** `writer` (default) owns the file; `replica` opens it read-only and serves only reads. */
    role: 'writer' | 'replica';
    /** Where writes go, named in a replica's refusals. */
    writerUrl?: string;
    /** How often a replica checks its snapshot file and the active model (0: only on SIGHUP). */
    pollSeconds: number;
    /** A writer publishes a read-only snapshot of the warehouse here (at start, then every `snapshotEverySeconds`). */
    snapshotFile?: string;
    snapshotEverySeconds: number;
  };
}

/** Flags a CLI command may pass that take precedence over the environment. */
export interface ConfigOverrides {
  /** `--kafka host:port[,…]` (over SHIPCAST_KAFKA_BROKERS). */
  kafkaBrokers?: string;
  db?: string;
  port?: number;
  host?: string;
  olist?: string;
  role?: 'writer' | 'replica';
  snapshotFile?: string;
}

/**
 * Parses and validates configuration from an environment map plus CLI overrides.
 * Throws a `BAD_CONFIG` error naming the variable at fault.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: ConfigOverrides = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw new ShipcastError('BAD_CONFIG', `${field}: ${issue.message}`, { field });
  }
  const e = parsed.data;
  const host = overrides.host ?? e.SHIPCAST_HOST;
  const portNum = overrides.port ?? e.SHIPCAST_PORT;
  if (e.MAILGUN_API_KEY === undefined && e.SHIPCAST_MAILER === 'mailgun') {
    throw new ShipcastError('BAD_CONFIG', 'MAILGUN_API_KEY: required when SHIPCAST_MAILER=mailgun', { field: 'MAILGUN_API_KEY' });
  }
  const dbPath = overrides.db ?? e.SHIPCAST_DB;
  const snapshotFile = overrides.snapshotFile ?? e.SHIPCAST_SNAPSHOT_FILE;
  if (snapshotFile !== undefined && (overrides.role ?? e.SHIPCAST_ROLE) === 'replica') {
    throw new ShipcastError('BAD_CONFIG', 'SHIPCAST_SNAPSHOT_FILE: a replica publishes no snapshot; the writer does', { field: 'SHIPCAST_SNAPSHOT_FILE' });
  }
  return {
    dbPath: dbPath === ':memory:' ? dbPath : path.resolve(dbPath),
    modelsDir: path.resolve(e.SHIPCAST_MODELS_DIR),
    dataDir: path.resolve(e.SHIPCAST_DATA_DIR),
    olistDir: path.resolve(overrides.olist ?? e.SHIPCAST_OLIST_DIR),
    olistDimensionsDir: path.resolve(e.SHIPCAST_OLIST_DIMENSIONS_DIR),
    env: e.SHIPCAST_ENV,
    logLevel: e.SHIPCAST_LOG_LEVEL,
    seed: e.SHIPCAST_SEED,
    sampleShipments: e.SHIPCAST_SAMPLE_SHIPMENTS,
    tfBackend: e.SHIPCAST_TF_BACKEND,
    etaEpochs: e.SHIPCAST_ETA_EPOCHS,
    http: {
      host,
      port: portNum,
      publicUrl: e.SHIPCAST_PUBLIC_URL ?? `http://${host}:${portNum}`,
      persistedOnly: e.SHIPCAST_PERSISTED_ONLY === '1' || e.SHIPCAST_PERSISTED_ONLY === 'true',
    },
    webhooks: {
      secrets: (e.SHIPCAST_WEBHOOK_SECRET ?? '').split(/\s+/).filter(Boolean),
      aftershipSecret: e.SHIPCAST_AFTERSHIP_SECRET,
      easypostSecret: e.SHIPCAST_EASYPOST_SECRET,
      shippoSecret: e.SHIPCAST_SHIPPO_SECRET,
    },
    linkSecret: e.SHIPCAST_LINK_SECRET,
    mail: {
      provider: e.SHIPCAST_MAILER,
      mailgun: {
        apiKey: e.MAILGUN_API_KEY,
        domain: e.MAILGUN_DOMAIN,
        promoDomain: e.MAILGUN_PROMO_DOMAIN,
        url: e.MAILGUN_URL,
        webhookSigningKey: e.MAILGUN_WEBHOOK_SIGNING_KEY,
      },
      promoGuardrail: { complaintLimit: e.SHIPCAST_PROMO_COMPLAINT_LIMIT, windowDays: e.SHIPCAST_PROMO_COMPLAINT_WINDOW_DAYS },
    },
    nba: { reward: nbaRewardConfig(e) },
    kafka: kafkaConfig(e, overrides.kafkaBrokers),
    replication: {
      role: overrides.role ?? e.SHIPCAST_ROLE,
      writerUrl: e.SHIPCAST_WRITER_URL,
      pollSeconds: e.SHIPCAST_REPLICA_POLL_SECONDS,
      snapshotFile: snapshotFile === undefined ? undefined : path.resolve(snapshotFile),
      snapshotEverySeconds: e.SHIPCAST_SNAPSHOT_EVERY_SECONDS,
    },
  };
}

/**
 * Parses `key=number,key=number` (each key at most once, from `keys`, numbers ≥ 0) into the keys
 * given; BAD_CONFIG names the variable and the key at fault.
 */
function numberList<K extends string>(variable: string, raw: string | undefined, keys: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const part of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)\s*=\s*(\S+)$/.exec(part);
    const key = m?.[1] as K | undefined;
    if (!m || !key || !keys.includes(key)) throw new ShipcastError('BAD_CONFIG', `${variable}: "${part}" is not key=number with a key among ${keys.join(', ')}`, { field: variable });
    const value = Number(m[2]);
    if (!Number.isFinite(value) || value < 0) throw new ShipcastError('BAD_CONFIG', `${variable}: ${key} must be a number >= 0, got "${m[2]}"`, { field: variable });
    if (key in out) throw new ShipcastError('BAD_CONFIG', `${variable}: ${key} is given twice`, { field: variable });
    out[key] = value;
  }
  return out;
}

/** The NBA reward: the defaults, with the unit costs and values a deployment sets. */
function nbaRewardConfig(e: z.infer<typeof EnvSchema>): NbaRewardConfig {
  const costs = numberList('SHIPCAST_NBA_COSTS', e.SHIPCAST_NBA_COSTS, NBA_ACTION_NAMES.filter((a) => a !== 'none'));
  const v = numberList('SHIPCAST_NBA_VALUES', e.SHIPCAST_NBA_VALUES, ['repeat_base', 'repeat_share', 'contact', 'csat'] as const);
  const d = DEFAULT_NBA_REWARD;
  return {
    repeatValueBase: v.repeat_base ?? d.repeatValueBase,
    repeatValueShare: v.repeat_share ?? d.repeatValueShare,
    contactCost: v.contact ?? d.contactCost,
    csatValue: v.csat ?? d.csatValue,
    unitCost: { ...d.unitCost, ...costs },
  };
}

function kafkaConfig(e: z.infer<typeof EnvSchema>, brokersFlag: string | undefined): Config['kafka'] {
  if (brokersFlag !== undefined && !validBrokers(brokersFlag)) throw new ShipcastError('BAD_CONFIG', `--kafka: ${BROKERS_HINT}`, { field: '--kafka' });
  const mechanism = e.SHIPCAST_KAFKA_SASL_MECHANISM;
  for (const [field, value] of [['SHIPCAST_KAFKA_SASL_USERNAME', e.SHIPCAST_KAFKA_SASL_USERNAME], ['SHIPCAST_KAFKA_SASL_PASSWORD', e.SHIPCAST_KAFKA_SASL_PASSWORD]] as const) {
    if (mechanism !== undefined && value === undefined) throw new ShipcastError('BAD_CONFIG', `${field}: required when SHIPCAST_KAFKA_SASL_MECHANISM is set`, { field });
  }
  return {
    brokers: (brokersFlag ?? e.SHIPCAST_KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean),
    clientId: e.SHIPCAST_KAFKA_CLIENT_ID,
    groupId: e.SHIPCAST_KAFKA_GROUP,
    topic: e.SHIPCAST_KAFKA_TOPIC,
    mailgunTopic: e.SHIPCAST_KAFKA_MAILGUN_TOPIC,
    ssl: e.SHIPCAST_KAFKA_SSL === '1' || e.SHIPCAST_KAFKA_SSL === 'true',
    sasl: mechanism === undefined ? undefined : { mechanism, username: e.SHIPCAST_KAFKA_SASL_USERNAME!, password: e.SHIPCAST_KAFKA_SASL_PASSWORD! },
  };
}
