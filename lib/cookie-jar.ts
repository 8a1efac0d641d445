/**
 * A scripted shopper's cookies, as a browser keeps them: the shop's session and, at steps 3–6, the load balancer's
 * stickiness cookie. The climb's shoppers (scripts/climb/browser.ts) and the load profile's virtual shoppers
 * (scripts/load/run.ts) keep theirs here. Names and values only: every cookie the shop sets is for the whole site.
 */

/** Applies `Set-Cookie` lines in order (checkout clears the old session cookie, then sets the new one). */
export function applySetCookies(jar: Map<string, string>, lines: string | string[] | undefined): void {
  for (const line of typeof lines === "string" ? [lines] : (lines ?? [])) {
    const [pair, ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => {
      const [key, v = ""] = a.trim().split("=");
      if (key.toLowerCase() === "max-age") return Number(v) <= 0;
      if (key.toLowerCase() === "expires") return Date.parse(v) <= Date.now();
      return false;
    });
    if (expired || value === "") jar.delete(name);
    else jar.set(name, value);
  }
}

/** The `Cookie` header of `jar`; undefined when it is empty. */
export function cookieHeader(jar: ReadonlyMap<string, string>): string | undefined {
  return jar.size > 0 ? [...jar].map(([name, value]) => `${name}=${value}`).join("; ") : undefined;
}
