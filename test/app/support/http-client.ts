/**
 * A small HTTP client over node:http for the app tests. The tests talk to a real listening server on 127.0.0.1
 * rather than through `fastify.inject`: inject's light-my-request loads the ESM-only `cookie` package, which
 * jest's CommonJS runtime cannot require (on Node 22 as on 20), and a real socket exercises the real HTTP stack.
 */
import http, { type IncomingHttpHeaders } from "node:http";

/** A response, its body read as text. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON. */
  json<T = any>(): T;
}

/** One request; an object `body` is sent as JSON. */
export interface HttpRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

/** Reuses connections between requests, as browsers and load balancers do. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** Sends `request` to `baseUrl` (`http://127.0.0.1:port`) and reads the whole response. */
export function httpRequest(baseUrl: string, request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  let payload: string | Buffer | undefined;
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) {
    if (typeof request.body === "string" || Buffer.isBuffer(request.body)) payload = request.body;
    else {
      payload = JSON.stringify(request.body);
      headers["content-type"] ??= "application/json";
    }
    // Explicit framing: Node's client would not add it for HEAD, DELETE or OPTIONS requests with a body.
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: request.method ?? "GET", path: request.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
