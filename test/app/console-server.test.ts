/**
 * The console's server module (scripts/local/console/server.ts) without a launcher: which requests the control
 * endpoint refuses as cross-site, and the diagram it shows at each step (the step doc's Mermaid block, which
 * test/infra/docs.test.ts keeps equal to the generator's output).
 */
import type http from "node:http";
import { STEPS } from "../../stacks/steps";
import { crossSiteProblem, stepDiagram } from "../../scripts/local/console/server";

const PORT = 8081;
const request = (method: string, headers: http.IncomingHttpHeaders) =>
  ({ method, headers: { host: `127.0.0.1:${PORT}`, ...headers } }) as http.IncomingMessage;
const json = { "content-type": "application/json" };

test("the control endpoint serves its own page, the fault CLI and curl; it refuses what another site can send", () => {
  // Served: the console's own fetches, the CLI (no Origin), curl with -H content-type, localhost, GETs.
  expect(crossSiteProblem(request("POST", { ...json, origin: `http://127.0.0.1:${PORT}` }), PORT)).toBeUndefined();
  expect(
    crossSiteProblem(request("POST", { "content-type": "application/json; charset=utf-8" }), PORT),
  ).toBeUndefined();
  expect(crossSiteProblem(request("POST", { ...json, host: `localhost:${PORT}` }), PORT)).toBeUndefined();
  expect(crossSiteProblem(request("GET", {}), PORT)).toBeUndefined();
  // Refused, each saying why.
  expect(crossSiteProblem(request("POST", { "content-type": "text/plain" }), PORT)).toBe(
    'content-type must be application/json, got "text/plain"',
  );
  expect(crossSiteProblem(request("POST", { "content-type": "application/x-www-form-urlencoded" }), PORT)).toMatch(
    /^content-type must be application\/json/,
  );
  expect(crossSiteProblem(request("POST", {}), PORT)).toBe('content-type must be application/json, got ""');
  expect(crossSiteProblem(request("POST", { ...json, origin: "null" }), PORT)).toBe(
    `Origin must be http://127.0.0.1:${PORT} (this console), got "null"`,
  );
  expect(crossSiteProblem(request("POST", { ...json, origin: `http://127.0.0.1:${PORT + 1}` }), PORT)).toMatch(
    /^Origin must be/,
  );
  expect(crossSiteProblem(request("GET", { host: `rebound.example.com:${PORT}` }), PORT)).toBe(
    `Host must be 127.0.0.1:${PORT} or localhost:${PORT}, got "rebound.example.com:${PORT}"`,
  );
});

test("every step has the diagram of its doc, and each draws what that step adds", () => {
  for (const { step } of STEPS) expect(stepDiagram(step)).toMatch(/^flowchart /);
  expect(stepDiagram(3)).not.toMatch(/read replica/);
  expect(stepDiagram(4)).toMatch(/read replica 1/);
  expect(stepDiagram(12)).toBe("");
});
