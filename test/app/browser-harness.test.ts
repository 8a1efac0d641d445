/**
 * The browser harness (lib/browser/chromium.ts) that the page tests rely on to say "nothing left this machine":
 * Debian's Chromium starts, a request off 127.0.0.1 is recorded and never sent, and a CSP violation is reported.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { launchChromium, watchOffMachine } from "../../lib/browser/chromium";

let browser: Browser;
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((request, response): void => {
    if (request.url === "/csp")
      return void response
        .writeHead(200, { "content-type": "text/html", "content-security-policy": "default-src 'self'" })
        .end('<p>page</p><script src="/inline-ok.js"></script><img src="http://127.0.0.1:9/blocked-by-csp.png">');
    if (request.url === "/inline-ok.js")
      return void response.writeHead(200, { "content-type": "text/javascript" }).end("");
    response
      .writeHead(200, { "content-type": "text/html" })
      .end('<p>page</p><img src="http://203.0.113.7/pixel.png"><img src="/local.png">');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.close();
});

test("a request off 127.0.0.1 is recorded and aborted; local ones go through", async () => {
  const context = await browser.newContext();
  const watch = await watchOffMachine(context);
  const page = await context.newPage();
  const local: string[] = [];
  page.on("request", (request) => local.push(new URL(request.url()).pathname));
  await page.goto(url, { waitUntil: "load" });
  expect(watch.requests).toEqual(["http://203.0.113.7/pixel.png"]);
  expect(local).toContain("/local.png");
  await context.close();
});

test("a content-security-policy violation shows in the watch's errors", async () => {
  const context = await browser.newContext();
  const watch = await watchOffMachine(context);
  const page = await context.newPage();
  await page.goto(`${url}/csp`, { waitUntil: "load" });
  // The image is on 127.0.0.1 but another port: 'self' refuses it, so it is a violation and no request at all.
  expect(watch.errors.join("\n")).toMatch(/violates the following Content Security Policy/);
  expect(watch.requests).toEqual([]);
  await context.close();
});
