/** The in-process session store: expiry, a bound on its size, and copies rather than shared objects. */
import type { Session } from "fastify";
import { MemorySessionStore } from "../../app/src/session/memory-store";

let now = 1_700_000_000_000;
const stores: MemorySessionStore[] = [];
afterAll(() => stores.forEach((store) => store.close()));

function store(maxSessions?: number): MemorySessionStore {
  const created = new MemorySessionStore({ maxSessions, now: () => now });
  stores.push(created);
  return created;
}

function session(data: Partial<Session>, expiresInMs = 60_000): Session {
  return { cookie: { originalMaxAge: expiresInMs, expires: new Date(now + expiresInMs) }, ...data } as Session;
}

const get = (s: MemorySessionStore, id: string) =>
  new Promise<Session | null | undefined>((resolve, reject) =>
    s.get(id, (error, value) => (error ? reject(error) : resolve(value))),
  );
const set = (s: MemorySessionStore, id: string, value: Session) =>
  new Promise<void>((resolve, reject) => s.set(id, value, (error) => (error ? reject(error) : resolve())));

test("returns what was stored, as a copy: changing the object afterwards changes nothing stored", async () => {
  const s = store();
  const value = session({ shopperId: "a", cart: [{ productId: 1, quantity: 2 }] });
  await set(s, "id-1", value);
  value.cart?.push({ productId: 9, quantity: 9 });
  const read = await get(s, "id-1");
  expect(read?.shopperId).toBe("a");
  expect(read?.cart).toEqual([{ productId: 1, quantity: 2 }]);
  expect(read).not.toBe(value);
});

test("forgets a session once its cookie has expired", async () => {
  const s = store();
  await set(s, "short", session({ shopperId: "b" }, 1_000));
  expect(await get(s, "short")).not.toBeNull();
  now += 1_000;
  expect(await get(s, "short")).toBeNull();
  expect(s.size).toBe(0);
});

test("the sweep drops expired sessions nobody asks for", async () => {
  const s = store();
  await set(s, "old", session({}, 1_000));
  await set(s, "new", session({}, 100_000));
  now += 5_000;
  s.sweep();
  expect(s.size).toBe(1);
  expect(await get(s, "new")).not.toBeNull();
});

test("holds at most maxSessions, dropping the least recently written", async () => {
  const s = store(2);
  await set(s, "first", session({}));
  await set(s, "second", session({}));
  await set(s, "first", session({ shopperId: "rewritten" }));
  await set(s, "third", session({}));
  expect(s.size).toBe(2);
  expect(await get(s, "second")).toBeNull();
  expect((await get(s, "first"))?.shopperId).toBe("rewritten");
});

test("destroy removes a session", async () => {
  const s = store();
  await set(s, "gone", session({}));
  await new Promise<void>((resolve) => s.destroy("gone", () => resolve()));
  expect(await get(s, "gone")).toBeNull();
});

describe("tombstones of retired session ids", () => {
  const tombstone = { orderId: "order-1", shard: "main", cartId: "cart-1", cartVersion: 3 };
  const retire = (s: MemorySessionStore, id: string) =>
    new Promise<void>((resolve, reject) => s.retire(id, tombstone, (error) => (error ? reject(error) : resolve())));

  test("replaces the session: only the tombstone is read back, and no session is written over it", async () => {
    const s = store();
    await set(s, "rotated", session({ shopperId: "a", cart: [{ productId: 1, quantity: 2 }], client: "192.0.2.1" }));
    await retire(s, "rotated");
    expect(await get(s, "rotated")).toEqual({ tombstone });
    // A request that loaded the session before its checkout saves it afterwards: refused, the tombstone stays.
    await expect(set(s, "rotated", session({ shopperId: "a", client: "192.0.2.1" }))).rejects.toMatchObject({
      statusCode: 409,
      code: "session_ended",
    });
    expect(await get(s, "rotated")).toEqual({ tombstone });
    // Counted against the client that held the session, which still holds one entry.
    expect(s.sessionsOf("192.0.2.1")).toBe(1);
  });

  test("expires after tombstoneTtlMs, whatever the session's cookie said; then the id is free", async () => {
    const s = new MemorySessionStore({ tombstoneTtlMs: 5_000, now: () => now });
    stores.push(s);
    await set(s, "rotated", session({ shopperId: "a" }, 7 * 24 * 3600_000));
    await retire(s, "rotated");
    now += 4_999;
    expect(await get(s, "rotated")).toEqual({ tombstone });
    now += 1;
    expect(await get(s, "rotated")).toBeNull();
    expect(s.size).toBe(0);
    await set(s, "rotated", session({ shopperId: "b" }));
    expect((await get(s, "rotated"))?.shopperId).toBe("b");
  });

  test("an expired tombstone no longer refuses a write, even before the sweep or a read drops it", async () => {
    const s = new MemorySessionStore({ tombstoneTtlMs: 1_000, now: () => now });
    stores.push(s);
    await retire(s, "rotated");
    now += 1_000;
    await set(s, "rotated", session({ shopperId: "c" }));
    expect((await get(s, "rotated"))?.shopperId).toBe("c");
  });

  test("tombstoneTtlMs must be a whole number of at least 1", () => {
    expect(() => new MemorySessionStore({ tombstoneTtlMs: 0 })).toThrow(
      "MemorySessionStore: tombstoneTtlMs must be a whole number of at least 1, got 0",
    );
  });
});

describe("bounded per client as well as in total", () => {
  const from = (client: string, data: Partial<Session> = {}, expiresInMs?: number) =>
    session({ ...data, client }, expiresInMs);
  const bounded = (maxSessions: number, maxSessionsPerClient: number) => {
    const created = new MemorySessionStore({ maxSessions, maxSessionsPerClient, now: () => now });
    stores.push(created);
    return created;
  };

  test("a client past its bound loses its own least recently written session, never another client's", async () => {
    const s = bounded(1000, 3);
    await set(s, "shopper", from("192.0.2.1", { shopperId: "real" }));
    for (let i = 0; i < 50; i += 1) await set(s, `flood-${i}`, from("198.51.100.7"));
    expect(s.sessionsOf("198.51.100.7")).toBe(3);
    expect(s.size).toBe(4);
    expect((await get(s, "shopper"))?.shopperId).toBe("real");
    // The three it keeps are its three most recent.
    for (const id of ["flood-47", "flood-48", "flood-49"]) expect(await get(s, id)).not.toBeNull();
    expect(await get(s, "flood-46")).toBeNull();
  });

  test("rewriting a session makes it the client's most recent: it outlives the client's next sessions", async () => {
    const s = bounded(1000, 2);
    await set(s, "a", from("192.0.2.9"));
    await set(s, "b", from("192.0.2.9"));
    await set(s, "a", from("192.0.2.9", { shopperId: "kept" }));
    await set(s, "c", from("192.0.2.9"));
    expect(await get(s, "b")).toBeNull();
    expect((await get(s, "a"))?.shopperId).toBe("kept");
  });

  test("past the total, the client holding the most sessions loses one: one-cart shoppers keep theirs", async () => {
    const s = bounded(20, 5);
    for (let i = 0; i < 10; i += 1) await set(s, `shopper-${i}`, from(`192.0.2.${i}`));
    // Ten flooding addresses, 5 sessions each at most: 50 more than the store's 20 leave every shopper in.
    for (let round = 0; round < 10; round += 1)
      for (let a = 0; a < 10; a += 1) await set(s, `flood-${a}-${round}`, from(`203.0.113.${a}`));
    expect(s.size).toBe(20);
    for (let i = 0; i < 10; i += 1) expect(await get(s, `shopper-${i}`)).not.toBeNull();
    for (let a = 0; a < 10; a += 1) expect(s.sessionsOf(`203.0.113.${a}`)).toBe(1);
  });

  test("unattributed sessions count only in the total; expiry and destroy give a client its room back", async () => {
    const s = bounded(1000, 2);
    for (let i = 0; i < 5; i += 1) await set(s, `unattributed-${i}`, session({}));
    expect(s.size).toBe(5);
    await set(s, "short", from("192.0.2.50", {}, 1_000));
    await set(s, "long", from("192.0.2.50", {}, 100_000));
    now += 1_000;
    s.sweep();
    expect(s.sessionsOf("192.0.2.50")).toBe(1);
    await new Promise<void>((resolve) => s.destroy("long", () => resolve()));
    expect(s.sessionsOf("192.0.2.50")).toBe(0);
  });

  test("bounds must be whole numbers of at least 1", () => {
    expect(() => new MemorySessionStore({ maxSessionsPerClient: 0 })).toThrow(
      "MemorySessionStore: maxSessionsPerClient must be a whole number of at least 1, got 0",
    );
    expect(() => new MemorySessionStore({ maxSessions: 2.5 })).toThrow(
      "MemorySessionStore: maxSessions must be a whole number of at least 1, got 2.5",
    );
  });
});
