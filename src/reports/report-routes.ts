/**
 * `GET /reports/<name>.json[?from=YYYY-MM-DD&until=YYYY-MM-DD]` (both days inclusive): one report computed on request,
 * for API keys whose role has REPORTS_READ.
 */
import type { Route } from '../http/router.js';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { parseBearer, type ApiKeyStore } from '../auth/api-keys.js';
import { roleAllows } from '../auth/roles.js';
import { isShipcastError } from '../errors.js';
import { periodFromDays } from './scope.js';
import { buildReport, REPORT_NAMES, type ReportName } from './build-reports.js';
import type { ContactCosts } from './cost-to-serve.js';

function errorJson(status: number, code: string, message: string, field?: string): Response {
  return Response.json({ error: { code, message, ...(field ? { field } : {}) } }, { status });
}

const PATH = /^\/reports\/([^/]+)\.json$/;

/** The report routes; `now` fixes the as-of instant (tests), default the request time. */
export function reportRoutes(deps: { warehouse: Warehouse; apiKeys: ApiKeyStore; log: Logger; contactCosts?: ContactCosts; now?: () => Date }): Route[] {
  return [
    {
      method: 'GET',
      path: PATH,
      handler: async (req) => {
        const url = new URL(req.url);
        const token = parseBearer(req.headers.get('authorization'));
        const principal = token === undefined ? undefined : await deps.apiKeys.authenticate(token);
        if (!principal) {
          return errorJson(401, 'UNAUTHENTICATED', token === undefined ? 'an API key is required (Authorization: Bearer <key>)' : 'the API key is invalid or revoked');
        }
        if (!roleAllows(principal.role, 'REPORTS_READ')) return errorJson(403, 'FORBIDDEN', `role ${principal.role} lacks permission REPORTS_READ`);
        const name = PATH.exec(url.pathname)![1]!;
        if (!(REPORT_NAMES as readonly string[]).includes(name)) {
          return errorJson(404, 'NOT_FOUND', `no report "${name}"; reports: ${REPORT_NAMES.join(', ')}`);
        }
        try {
          const { from, until } = periodFromDays(url.searchParams.get('from'), url.searchParams.get('until'));
          const body = await buildReport(deps.warehouse, name as ReportName, { from, until, now: deps.now?.(), contactCosts: deps.contactCosts });
          return Response.json(body);
        } catch (e) {
          if (isShipcastError(e) && e.code === 'BAD_INPUT') return errorJson(400, 'BAD_INPUT', e.message, e.field);
          deps.log.error({ err: e, report: name }, 'report failed');
          return errorJson(500, 'INTERNAL', 'the report could not be computed');
        }
      },
    },
  ];
}
