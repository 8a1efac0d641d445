/**
 * The part of autocannon 8's programmatic API that scripts/load/run.ts uses (the package ships no types). From its
 * README (https://github.com/mcollina/autocannon#api) and lib/requestIterator.js: each connection replays
 * `requests` in order, with a `context` of its own that is reset (cloned from `initialContext`) when the list starts
 * again; a `setupRequest` that returns nothing sends the connection back to the first request.
 */
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
    }
    interface Requests<C> extends Request {
      setupRequest?: (request: Request, context: C) => Request | undefined;
      /** `headers`: the response's, by name as sent; a repeated header (`set-cookie`) is an array. */
      onResponse?: (status: number, body: string, context: C, headers: Record<string, string | string[]>) => void;
    }
    interface Options<C> {
      url: string;
      connections?: number;
      duration?: number;
      /** Requests per second over every connection. */
      overallRate?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      initialContext?: C;
      requests?: Array<Requests<C>>;
    }
    interface Histogram {
      average: number;
      p50: number;
      p99: number;
      max: number;
      total: number;
    }
    interface Result {
      requests: Histogram;
      latency: Histogram;
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      "2xx": number;
      statusCodeStats: Record<string, { count: number }>;
    }
  }
  function autocannon<C>(options: autocannon.Options<C>): Promise<autocannon.Result>;
  export = autocannon;
}
