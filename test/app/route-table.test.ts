/**
 * The app's route table: which routes pass the session plugin, and which are rate limited.
 *
 * The session plugin runs only on the routes that read a session. It makes a session object for every request
 * that passes it, cookie or not (a random id, an HMAC, two hashes): about 5 % of a web process's CPU on the cached
 * product read, the hottest route, which never looks at one. Fastify lists each route's hooks by function name
 * (printRoutes); @fastify/session's are `handleSession` (onRequest) and `saveSession` (onSend).
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { LIMITED_ROUTES } from "../../app/src/http/rate-limit";
import { routeHooks } from "./support/route-table";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";

let suite: Suite;
let redis: RedisServer;
const shops: ShopInstance[] = [];

beforeAll(async () => {
  suite = await openSuite("route_table");
  redis = await startRedisServer();
});
afterAll(async () => {
  for (const shop of shops) await shop.close();
  await redis?.stop();
  await suite?.close();
});

function routesOf(shop: ShopInstance): Map<string, string[]> {
  const routes = routeHooks(shop.app.printRoutes({ includeHooks: true, commonPrefix: false }));
  expect(routes.size).toBeGreaterThan(10);
  return routes;
}

function sessionRoutes(shop: ShopInstance): string[] {
  return [...routesOf(shop)]
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

test("every route that changes state is rate limited: in LIMITED_ROUTES, or as an admin route", async () => {
  const shop = await startShop(suite, { REDIS_URL: redis.url });
  shops.push(shop);
  // A new write route is limited only once it is in LIMITED_ROUTES (http/rate-limit.ts) or behind the admin guard
  // (whose limit finds it by the guard). Forgetting both would leave it open to floods; this fails instead.
  const unlimited = [...routesOf(shop)]
    .filter(([route]) => !/^(GET|HEAD|OPTIONS) /.test(route))
    .filter(([route, hooks]) => LIMITED_ROUTES[route] === undefined && !hooks.includes("onRequest:guard()"))
    .map(([route]) => route);
  expect(unlimited).toEqual([]);
  // And the table names only routes that exist.
  expect(Object.keys(LIMITED_ROUTES).filter((route) => !routesOf(shop).has(route))).toEqual([]);
});
