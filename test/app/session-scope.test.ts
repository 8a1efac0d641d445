/**
 * The session plugin runs only on the routes that read a session. It makes a session object for every request
 * that passes it, cookie or not (a random id, an HMAC, two hashes): about 5 % of a web process's CPU on the cached
 * product read, the hottest route, which never looks at one. Fastify lists each route's hooks by function name
 * (printRoutes); @fastify/session's are `handleSession` (onRequest) and `saveSession` (onSend).
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";

let suite: Suite;
let redis: RedisServer;
const shops: ShopInstance[] = [];

beforeAll(async () => {
  suite = await openSuite("session_scope");
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const shop of shops) await shop.close();
  await redis?.stop();
  await suite?.close();
});

/** Each route ("GET /api/cart") with its hooks' names, read from Fastify's printed route tree. */
function routeHooks(tree: string): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  const parents: Array<{ indent: number; path: string }> = [];
  let current: string[] | undefined;
  for (const line of tree.split("\n")) {
    const indent = line.search(/[^│├└─\s]/u);
    const text = line.slice(indent);
    const hook = /^• \((\w+)\) (\[.*\])$/u.exec(text);
    if (hook && current) current.push(...(JSON.parse(hook[2]) as string[]).map((name) => `${hook[1]}:${name}`));
    const node = /^(.*) \(([A-Z]+)\)$/u.exec(text);
    if (hook || !node) continue;
    while (parents.length > 0 && parents[parents.length - 1].indent >= indent) parents.pop();
    const path = (parents[parents.length - 1]?.path ?? "") + node[1];
    parents.push({ indent, path });
    current = [];
    routes.set(`${node[2]} ${path.replace(/^\/?/, "/")}`, current);
  }
  return routes;
}

function sessionRoutes(shop: ShopInstance): string[] {
  const routes = routeHooks(shop.app.printRoutes({ includeHooks: true, commonPrefix: false }));
  expect(routes.size).toBeGreaterThan(10);
  return [...routes]
    .filter(([, hooks]) => hooks.includes("onRequest:handleSession()"))
    .map(([route, hooks]) => {
      expect(hooks).toContain("onSend:saveSession()");
      return route;
    })
    .filter((route) => !route.startsWith("HEAD "))
    .sort();
}

const SHOPPER_ROUTES = [
  "DELETE /api/cart/items/:productId",
  "GET /api/cart",
  "GET /api/orders",
  "GET /api/orders/:id",
  "POST /api/cart/items",
  "POST /api/checkout",
];

test("with the cache on (step 5+), only the shopper's routes pass the session plugin", async () => {
  const shop = await startShop(suite, { REDIS_URL: redis.url });
  shops.push(shop);
  expect(sessionRoutes(shop)).toEqual(SHOPPER_ROUTES);
});

test("without it, the catalog reads pass it too: they wait for the reader's own last write", async () => {
  const shop = await startShop(suite);
  shops.push(shop);
  const routes = sessionRoutes(shop);
  expect(routes).toEqual(expect.arrayContaining([...SHOPPER_ROUTES, "GET /api/products", "GET /api/products/:id"]));
  expect(routes.filter((route) => !route.includes("/products"))).toEqual(SHOPPER_ROUTES);
});
