/** The catalog routes: browsing with keyset pagination, and the admin-only writes. */
import { SEED_CATEGORIES } from "../../app/src/db/seed";
import { waitForReplica } from "./support/test-database";
import { ADMIN_TOKEN, TEST_SEED_PRODUCTS, type TestApp, startTestApp } from "./support/test-app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("products");
});
afterAll(() => t?.close());

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await t.request({ path, headers });
  return { status: response.status, body: response.json(), headers: response.headers };
}

describe("GET /api/products", () => {
  test("walks the seeded catalog page by page through opaque cursors, each product once, in id order", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`/api/products?limit=25${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(25);
      seen.push(...page.body.items.map((p: { id: number }) => p.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(TEST_SEED_PRODUCTS / 25));
    expect(seen).toEqual(Array.from({ length: TEST_SEED_PRODUCTS }, (_, i) => i + 1));
  });

  test("filters by category, paginating within it", async () => {
    const first = await get("/api/products?category=garden&limit=5");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(5);
    expect(first.body.items.every((p: { category: string }) => p.category === "garden")).toBe(true);
    const second = await get(`/api/products?category=garden&limit=5&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].id).toBeGreaterThan(first.body.items[4].id);
    expect(second.body.items.every((p: { category: string }) => p.category === "garden")).toBe(true);
    const all = await get("/api/products?category=garden&limit=100");
    expect(all.body.items).toHaveLength(TEST_SEED_PRODUCTS / SEED_CATEGORIES.length);
    expect(all.body.nextCursor).toBeNull();
  });

  test("an unknown category is an empty page, not an error", async () => {
    const page = await get("/api/products?category=spaceships");
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [], nextCursor: null });
  });

  test("defaults to 20 products per page and shows the API's product shape", async () => {
    const page = await get("/api/products");
    expect(page.body.items).toHaveLength(20);
    expect(page.body.items[0]).toEqual({
      id: 1,
      sku: "SKU-0000001",
      name: expect.stringMatching(/ 1$/),
      description: expect.stringContaining("books"),
      category: "books",
      priceCents: expect.any(Number),
      stock: expect.any(Number),
    });
  });

  test.each([
    ["limit=0", "validation_failed"],
    ["limit=101", "validation_failed"],
    ["limit=ten", "validation_failed"],
    ["limit=1&limit=2", "validation_failed"],
    ["limit=Infinity", "validation_failed"],
    ["category=Garden", "validation_failed"],
    ["colour=red", "validation_failed"],
    ["cursor=not-a-cursor", "invalid_cursor"],
    [`cursor=${Buffer.from('{"after":-1}').toString("base64url")}`, "invalid_cursor"],
    [`cursor=${Buffer.from('{"after":1,"x":2}').toString("base64url")}`, "invalid_cursor"],
  ])("?%s is a 400 %s", async (query, code) => {
    const response = await get(`/api/products?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: code, message: expect.any(String), details: expect.anything() });
  });
});

describe("GET /api/products/:id", () => {
  test("returns one product", async () => {
    const response = await get("/api/products/7");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 7, sku: "SKU-0000007", category: SEED_CATEGORIES[6] });
  });

  test("an unknown id is a 404 in the error shape", async () => {
    const response = await get("/api/products/999999");
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: "product_not_found",
      message: "Product 999999 does not exist",
      details: null,
    });
  });

  test.each(["0", "-3", "1.5", "abc", "99999999999", "Infinity", "-Infinity", "1e400", "NaN"])(
    "id %s is a 400",
    async (id) => {
      const response = await get(`/api/products/${id}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe("validation_failed");
    },
  );
});

describe("admin writes", () => {
  const product = { sku: "NEW-0001", name: "Test Lantern", category: "garden", priceCents: 1999, stock: 3 };

  test.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-wrong-token" }],
    ["the right token in the wrong scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
    ["a prefix of the right token", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ])("POST with %s is a 401 asking for a bearer token, before the body is looked at", async (_, headers) => {
    const response = await t.request({ method: "POST", path: "/api/products", headers, body: { junk: true } });
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(response.json()).toEqual({ error: "unauthorized", message: expect.any(String), details: null });
  });

  test("PATCH without the token is a 401 and changes nothing", async () => {
    const before = await get("/api/products/5");
    const response = await t.request({ method: "PATCH", path: "/api/products/5", body: { stock: 0 } });
    expect(response.status).toBe(401);
    expect((await get("/api/products/5")).body).toEqual(before.body);
  });

  test("POST creates a product (201, Location), which reads then find", async () => {
    const response = await t.request({ method: "POST", path: "/api/products", headers: admin, body: product });
    expect(response.status).toBe(201);
    const created = response.json();
    expect(created).toEqual({ id: TEST_SEED_PRODUCTS + 1, description: "", ...product });
    expect(response.headers.location).toBe(`/api/products/${created.id}`);
    const { rows } = await t.router.primaryPool.query("SELECT sku FROM products WHERE id = $1", [created.id]);
    expect(rows).toEqual([{ sku: product.sku }]);
    await waitForReplica(t.db.cluster);
    expect((await get(`/api/products/${created.id}`)).body).toEqual(created);
  });

  test("a taken SKU is a 409", async () => {
    const response = await t.request({
      method: "POST",
      path: "/api/products",
      headers: admin,
      body: { ...product, name: "Copy" },
    });
    expect(response.status).toBe(409);
    expect(response.json()).toMatchObject({ error: "sku_taken", details: { sku: product.sku } });
  });

  test.each([
    ["a missing field", { sku: "X-123", name: "n", category: "home", priceCents: 1 }, "stock"],
    ["an unknown field", { ...product, sku: "X-124", colour: "red" }, "colour"],
    ["a negative price", { ...product, sku: "X-125", priceCents: -1 }, "priceCents"],
    ["a price as a string", { ...product, sku: "X-126", priceCents: "100" }, "priceCents"],
    ["a fractional stock", { ...product, sku: "X-127", stock: 1.5 }, "stock"],
    ["a blank name", { ...product, sku: "X-128", name: "   " }, "name"],
    ["a lower-case SKU", { ...product, sku: "x-129" }, "sku"],
  ])("POST with %s is a 400 naming the field", async (_, payload, field) => {
    const response = await t.request({ method: "POST", path: "/api/products", headers: admin, body: payload });
    expect(response.status).toBe(400);
    const body = response.json();
    expect(body.error).toBe("validation_failed");
    expect(body.details.in).toBe("body");
    expect(JSON.stringify(body.details.issues)).toContain(field);
  });

  test("an unknown field is named in the details", async () => {
    const response = await t.request({
      method: "POST",
      path: "/api/products",
      headers: admin,
      body: { ...product, sku: "X-130", colour: "red" },
    });
    expect(response.json().details.issues).toContainEqual(expect.objectContaining({ field: "colour" }));
  });

  test("PATCH changes price and stock on the primary and returns the product", async () => {
    const response = await t.request({
      method: "PATCH",
      path: "/api/products/3",
      headers: admin,
      body: { priceCents: 4321, stock: 77 },
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ id: 3, priceCents: 4321, stock: 77 });
    const only = await t.request({ method: "PATCH", path: "/api/products/3", headers: admin, body: { stock: 5 } });
    expect(only.json()).toMatchObject({ id: 3, priceCents: 4321, stock: 5 });
    const { rows } = await t.router.primaryPool.query("SELECT price_cents, stock FROM products WHERE id = 3");
    expect(rows).toEqual([{ price_cents: 4321, stock: 5 }]);
  });

  test.each([
    ["an empty body", {}, "fewer than 1"],
    ["a name change", { name: "Renamed" }, "name"],
    ["negative stock", { stock: -1 }, "stock"],
    ["stock as a string", { stock: "5" }, "stock"],
  ])("PATCH with %s is a 400 naming the problem", async (_, payload, problem) => {
    const response = await t.request({ method: "PATCH", path: "/api/products/3", headers: admin, body: payload });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json().details.issues)).toContain(problem);
  });

  test("a body that is not JSON is a 400, an oversized one a 413, a non-JSON type a 415", async () => {
    const headers = { ...admin, "content-type": "application/json" };
    const broken = await t.request({ method: "POST", path: "/api/products", headers, body: '{"sku": "X-1",' });
    expect(broken.status).toBe(400);
    expect(broken.json()).toEqual({ error: "invalid_json", message: expect.any(String), details: null });
    const huge = await t.request({
      method: "POST",
      path: "/api/products",
      headers,
      body: JSON.stringify({ ...product, description: "x".repeat(64 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.json().error).toBe("payload_too_large");
    const xml = await t.request({
      method: "POST",
      path: "/api/products",
      headers: { ...admin, "content-type": "application/xml" },
      body: "<product/>",
    });
    expect(xml.status).toBe(415);
    expect(xml.json().error).toBe("unsupported_media_type");
  });

  test("PATCH of an unknown product is a 404", async () => {
    const response = await t.request({
      method: "PATCH",
      path: "/api/products/999999",
      headers: admin,
      body: { stock: 1 },
    });
    expect(response.status).toBe(404);
    expect(response.json().error).toBe("product_not_found");
  });
});
