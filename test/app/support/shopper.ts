/** A browser stand-in: keeps the session cookie between requests, as a shopper's browser does. */
import { SESSION_COOKIE } from "../../../app/src/session/shopper-session";
import type { HttpResponse } from "./http-client";
import type { TestApp } from "./test-app";

/** One shopper: a jar of one cookie. */
export class Shopper {
  /** The session cookie's value, once the app has set one. */
  cookie?: string;

  constructor(private readonly t: Pick<TestApp, "request">) {}

  /** Sends a request with the shopper's cookie and keeps the cookie the response sets. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    const response = await this.t.request({
      method,
      path,
      body: body as object | undefined,
      headers: this.cookie === undefined ? headers : { ...headers, cookie: `${SESSION_COOKIE}=${this.cookie}` },
    });
    for (const line of response.headers["set-cookie"] ?? []) {
      const [pair] = line.split(";", 1);
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      if (name === SESSION_COOKIE) this.cookie = value;
    }
    return response;
  }

  get(path: string) {
    return this.send("GET", path);
  }

  post(path: string, body?: unknown) {
    return this.send("POST", path, body);
  }

  delete(path: string) {
    return this.send("DELETE", path);
  }
}
