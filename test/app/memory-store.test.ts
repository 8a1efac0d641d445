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
