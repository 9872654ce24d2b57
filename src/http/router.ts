import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';

/** A WHATWG-fetch style handler; every HTTP surface of shipcast is one, so tests can call it in-process. */
export type FetchHandler = (req: Request) => Promise<Response> | Response;

export interface Route {
  /** HTTP method, or '*' for any. */
  method: string;
  /** Exact path, or a pattern tested against the path. */
  path: string | RegExp;
  handler: FetchHandler;
}

/** Builds one handler from routes, first match wins; 404/405 JSON otherwise. */
export function createRouter(routes: readonly Route[]): FetchHandler {
  return async (req) => {
    const { pathname } = new URL(req.url);
    let pathMatched = false;
    for (const r of routes) {
      const hit = typeof r.path === 'string' ? r.path === pathname : r.path.test(pathname);
      if (!hit) continue;
      pathMatched = true;
      if (r.method === '*' || r.method === req.method) return r.handler(req);
    }
    return Response.json(
      { error: { code: pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message: pathMatched ? `${req.method} not allowed on ${pathname}` : `no route for ${pathname}` } },
      { status: pathMatched ? 405 : 404 },
    );
  };
}

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Serves a fetch handler on a real socket (port 0 picks a free one). */
export async function listen(handler: FetchHandler, opts: { host: string; port: number }): Promise<RunningServer> {
  const adapter = createServerAdapter(handler);
  const server = http.createServer(adapter);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
