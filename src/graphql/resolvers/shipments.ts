/** Shipments, their orders, events and predicted ETAs, and the shipmentUpdated feed. */
import { Repeater } from 'graphql-yoga';
import type { ShipmentUpdatedEvent } from '../../domain/events.js';
import type { EtaPrediction } from '../../domain/eta.js';
import { ShipcastError, ValidationError } from '../../errors.js';
import type { GraphQLContext } from '../context.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { latenessRisk, type LatenessRiskValue } from '../lateness.js';
import type { EtaRecord, ShipmentConnectionRecord, ShipmentRecord } from '../records.js';
import { shipmentPage, type ShipmentSqlFilter } from '../shipment-queries.js';
import type { Resolvers, ShipmentFilter, ShipmentStatus } from '../generated/resolvers-types.js';

const toStatus = (s: string) => s.toUpperCase() as ShipmentStatus;

function checkFirst(first: number, max: number, field: string): void {
  if (!Number.isInteger(first) || first < 1 || first > max) throw new ValidationError(field, `must be between 1 and ${max}`);
}

function withTrackingNumber(eta: EtaPrediction | null, trackingNumber: string): EtaRecord | null {
  return eta ? { ...eta, trackingNumber } : null;
}

async function etaFor(s: ShipmentRecord, ctx: GraphQLContext): Promise<EtaRecord | null> {
  return withTrackingNumber(await ctx.loaders.eta.load(s.shipmentId), s.trackingNumber);
}

// How many candidates one request may run through the model when filtering by lateness risk.
// Chunks are large because a model call has a high fixed cost (the feature query).
const RISK_SCAN_CHUNK = 2000;
const RISK_SCAN_MAX = 20_000;

/**
 * A keyset page. With a lateness-risk filter the candidates are predicted a chunk at a time (one
 * model call per chunk, primed into the request's ETA loader so `eta` fields cost nothing more);
 * the scan stops at RISK_SCAN_MAX rows, returning `hasNextPage` with the cursor of the last row
 * examined so the client can continue.
 */
async function pageOfShipments(ctx: GraphQLContext, filter: ShipmentFilter | null | undefined, first: number, after: string | null | undefined): Promise<ShipmentConnectionRecord> {
  const f = filter ?? {};
  const sql: ShipmentSqlFilter = {
    statuses: f.status?.map((s) => s.toLowerCase()),
    carriers: f.carrier ?? undefined,
    shippedFrom: f.shipped?.from ?? undefined,
    shippedTo: f.shipped?.to ?? undefined,
    promisedFrom: f.promised?.from ?? undefined,
    promisedTo: f.promised?.to ?? undefined,
  };
  let afterId = after ? decodeCursor('shipment', after, 'after') : undefined;
  const risks = f.latenessRisk && f.latenessRisk.length > 0 ? new Set<LatenessRiskValue>(f.latenessRisk) : undefined;
  const db = ctx.services.warehouse;
  let nodes: ShipmentRecord[];
  let hasNextPage: boolean;
  let scanCursor: string | undefined;
  if (!risks) {
    const rows = await shipmentPage(db, sql, afterId, first + 1);
    hasNextPage = rows.length > first;
    nodes = rows.slice(0, first);
  } else {
    if (!risks.has('UNKNOWN')) sql.openWithPromise = true;
    nodes = [];
    hasNextPage = false;
    let scanned = 0;
    for (;;) {
      const chunk = await shipmentPage(db, sql, afterId, RISK_SCAN_CHUNK);
      if (chunk.length === 0) break;
      const etas = await ctx.loaders.eta.loadMany(chunk.map((s) => s.shipmentId));
      let i = 0;
      for (; i < chunk.length; i++) {
        const eta = etas[i];
        if (eta instanceof Error) throw eta;
        if (!risks.has(latenessRisk(chunk[i], eta, ctx.now))) continue;
        if (nodes.length === first) {
          hasNextPage = true;
          break;
        }
        nodes.push(chunk[i]);
      }
      if (hasNextPage) break;
      scanned += chunk.length;
      afterId = chunk[chunk.length - 1].shipmentId;
      if (chunk.length < RISK_SCAN_CHUNK) break;
      if (scanned >= RISK_SCAN_MAX) {
        hasNextPage = true;
        scanCursor = encodeCursor('shipment', afterId);
        break;
      }
    }
  }
  const edges = nodes.map((node) => ({ cursor: encodeCursor('shipment', node.shipmentId), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after !== undefined && after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: scanCursor ?? edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

function subscribeToShipment(ctx: GraphQLContext, trackingNumber: string): AsyncIterable<{ shipmentUpdated: ShipmentUpdatedEvent }> {
  return new Repeater<{ shipmentUpdated: ShipmentUpdatedEvent }>(async (push, stop) => {
    const off = ctx.services.events.subscribe('shipment.updated', (e) => {
      if (e.trackingNumber === trackingNumber) void push({ shipmentUpdated: e });
    });
    await stop;
    off();
  });
}

export const shipmentResolvers: Resolvers = {
  Query: {
    shipment: (_p, { trackingNumber }, ctx) => ctx.loaders.shipmentByTracking.load(trackingNumber),
    shipments: (_p, { filter, first, after }, ctx) => {
      checkFirst(first, ctx.limits.maxPageSize, 'first');
      return pageOfShipments(ctx, filter, first, after);
    },
    predictedEta: async (_p, { trackingNumber }, ctx) => {
      const id = await ctx.loaders.shipmentIdByTracking.load(trackingNumber);
      if (!id) throw new ShipcastError('NOT_FOUND', `trackingNumber: no shipment ${trackingNumber}`, { field: 'trackingNumber' });
      return withTrackingNumber(await ctx.loaders.eta.load(id), trackingNumber);
    },
    predictedEtas: async (_p, { trackingNumbers }, ctx) => {
      const max = ctx.limits.maxBatchSize;
      if (trackingNumbers.length > max) throw new ValidationError('trackingNumbers', `at most ${max} per request (got ${trackingNumbers.length})`);
      const ids = await ctx.services.trackingIndex.resolve(trackingNumbers);
      const etas = await ctx.loaders.eta.loadMany([...new Set(ids.values())]);
      const byId = new Map<string, EtaPrediction | null>();
      [...new Set(ids.values())].forEach((id, i) => {
        const eta = etas[i];
        if (eta instanceof Error) throw eta;
        byId.set(id, eta);
      });
      return trackingNumbers.map((t) => {
        const id = ids.get(t);
        return id === undefined ? null : withTrackingNumber(byId.get(id) ?? null, t);
      });
    },
  },
  Subscription: {
    shipmentUpdated: {
      subscribe: (_p, { trackingNumber }, ctx) => subscribeToShipment(ctx, trackingNumber),
    },
  },
  ShipmentUpdate: {
    status: (e) => toStatus(e.status),
    // Ingestion usually sends the fresh prediction along; otherwise predict now.
    eta: async (e, _a, ctx) => withTrackingNumber(e.eta ?? (await ctx.loaders.eta.load(e.shipmentId)), e.trackingNumber),
    shipment: (e, _a, ctx) => ctx.loaders.shipmentByTracking.load(e.trackingNumber),
  },
  Shipment: {
    id: (s) => s.shipmentId,
    status: (s) => toStatus(s.status),
    service: (s) => s.serviceLevel,
    events: async (s, { first, after }, ctx) => {
      checkFirst(first, ctx.limits.maxPageSize, 'events.first');
      const all = await ctx.loaders.eventsByTracking.load(s.trackingNumber);
      const start = after ? Number(decodeCursor('event', after, 'events.after')) + 1 : 0;
      if (!Number.isInteger(start) || start < 0) throw new ValidationError('events.after', 'is not a cursor from this list');
      const slice = all.slice(start, start + first);
      const edges = slice.map((node, i) => ({ cursor: encodeCursor('event', start + i), node }));
      return {
        edges,
        totalCount: all.length,
        pageInfo: {
          hasNextPage: start + first < all.length,
          hasPreviousPage: start > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
    eta: (s, _a, ctx) => etaFor(s, ctx),
    latenessRisk: async (s, _a, ctx) => latenessRisk(s, await ctx.loaders.eta.load(s.shipmentId), ctx.now),
    order: (s, _a, ctx) => ctx.loaders.order.load(s.orderId),
  },
  Order: {
    id: (o) => o.orderId,
    customer: (o, _a, ctx) => ctx.loaders.customer.load(o.customerId),
  },
  TrackingEvent: {
    status: (e) => toStatus(e.status),
  },
  EtaPrediction: {
    latestEvent: (e) => (e.basis === 'IN_FLIGHT' ? e.latestEvent ?? null : null),
  },
  EtaBasisEvent: {
    status: (e) => toStatus(e.status),
  },
};
