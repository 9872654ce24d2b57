import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Warehouse } from './warehouse/warehouse.js';
import type { DomainEvents } from './domain/events.js';

/** What the composition root hands every capability (GraphQL, ingestion, email); each adds its own needs. */
export interface CoreDeps {
  config: Config;
  log: Logger;
  warehouse: Warehouse;
  events: DomainEvents;
  /** The app's Prometheus registry (never prom-client's global one). */
  metrics: Registry;
}
