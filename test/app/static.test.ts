/**
 * The storefront's static files (step 6): the build gives each a content-hashed name that the CDN caches for a
 * year (`immutable`), rewrites the references to them, and the app links them under STATIC_BASE_URL.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../app/src/config";
import { STATIC_DIR } from "../../app/src/paths";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { testEnv } from "./support/test-app";

const ROOT = path.resolve(__dirname, "../..");
/** The pattern the CDN's `immutable` behaviour matches (stacks/static-assets.ts). */
const CDN_HASHED = /\.[0-9a-f]{8,}\.[a-z0-9]+$/;
const SOURCE_FILES = readdirSync(STATIC_DIR).sort();

const tmp = mkdtempSync(path.join(os.tmpdir(), "shop-static-"));
let suite: Suite;
const shops: ShopInstance[] = [];
afterAll(async () => {
  for (const shop of shops) await shop.close();
  await suite?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the build's hashing step on `source` into a new directory; returns it and the name mapping. */
function hash(source: string, name: string): { dir: string; mapping: Record<string, string> } {
  const dir = path.join(tmp, name);
  const stdout = execFileSync(process.execPath, [path.join(ROOT, "scripts", "static-assets.mjs"), source, dir], {
    encoding: "utf8",
  });
  return { dir, mapping: JSON.parse(stdout) };
}

describe("the build's hashed names", () => {
  const built = hash(STATIC_DIR, "built");
  const text = (name: string) => readFileSync(path.join(built.dir, built.mapping[name]), "utf8");

  test("every file but index.html gets <name>.<12 hex of its sha256>.<ext>, which the CDN treats as immutable", () => {
    expect(Object.keys(built.mapping).sort()).toEqual(SOURCE_FILES);
    expect(readdirSync(built.dir).sort()).toEqual(Object.values(built.mapping).sort());
    expect(SOURCE_FILES).toEqual(expect.arrayContaining(["app.js", "style.css", "logo.svg", "index.html"]));
    for (const [source, hashed] of Object.entries(built.mapping)) {
      if (source === "index.html") {
        expect(hashed).toBe("index.html");
        expect(CDN_HASHED.test(hashed)).toBe(false);
        continue;
      }
      const ext = path.extname(source);
      const content = readFileSync(path.join(built.dir, hashed));
      expect(hashed).toBe(
        `${path.basename(source, ext)}.${createHash("sha256").update(content).digest("hex").slice(0, 12)}${ext}`,
      );
      expect(CDN_HASHED.test(hashed)).toBe(true);
    }
  });

  test("references point at the hashed names: the page's script, stylesheet and image, the stylesheet's image", () => {
    const page = text("index.html");
    for (const source of ["app.js", "style.css", "logo.svg"]) {
      expect(page).toContain(`/static/${built.mapping[source]}`);
      expect(page).not.toContain(`/static/${source}`);
    }
    expect(text("style.css")).toContain(`url("${built.mapping["logo.svg"]}")`);
    expect(text("style.css")).not.toContain('url("logo.svg")');
  });

  test("the same files give the same names; a changed image renames the image and the stylesheet that uses it", () => {
    expect(hash(STATIC_DIR, "again").mapping).toEqual(built.mapping);
    const changed = path.join(tmp, "changed-source");
    cpSync(STATIC_DIR, changed, { recursive: true });
    writeFileSync(
      path.join(changed, "logo.svg"),
      readFileSync(path.join(changed, "logo.svg"), "utf8").replace("#2f6f4f", "#7a2f2f"),
    );
    const mapping = hash(changed, "changed").mapping;
    expect(mapping["logo.svg"]).not.toBe(built.mapping["logo.svg"]);
    expect(mapping["style.css"]).not.toBe(built.mapping["style.css"]);
    expect(mapping["app.js"]).toBe(built.mapping["app.js"]);
  });

  describe("served by the app", () => {
    beforeAll(async () => {
      suite = await openSuite("static");
    });
    const start = async (env: Record<string, string>, staticDir?: string) => {
      const shop = await startShop(suite, env, staticDir ? { staticDir } : {});
      shops.push(shop);
      return shop;
    };

    test("hashed files: a year, immutable, the built bytes; the page: no-cache, links them at /static/", async () => {
      const shop = await start({}, built.dir);
      for (const source of ["app.js", "style.css", "logo.svg"]) {
        const response = await shop.request({ path: `/static/${built.mapping[source]}` });
        expect(response.status).toBe(200);
        expect(response.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
        expect(response.text).toBe(readFileSync(path.join(built.dir, built.mapping[source]), "utf8"));
      }
      expect((await shop.request({ path: `/static/${built.mapping["logo.svg"]}` })).headers["content-type"]).toBe(
        "image/svg+xml",
      );
      const page = await shop.request({ path: "/" });
      expect(page.headers["cache-control"]).toBe("no-cache");
      expect(page.text).toContain(`<script src="/static/${built.mapping["app.js"]}" defer></script>`);
      expect((await shop.request({ path: "/static/app.js" })).status).toBe(404);
    });

    test("STATIC_BASE_URL moves the page's links to the CDN and admits its origin in the page's CSP", async () => {
      const shop = await start({ STATIC_BASE_URL: "https://cdn.example.com/static" }, built.dir);
      const page = await shop.request({ path: "/" });
      expect(page.text).toContain(
        `<script src="https://cdn.example.com/static/${built.mapping["app.js"]}" defer></script>`,
      );
      expect(page.text).toContain(
        `<link rel="stylesheet" href="https://cdn.example.com/static/${built.mapping["style.css"]}" />`,
      );
      expect(page.text).toContain(`<img src="https://cdn.example.com/static/${built.mapping["logo.svg"]}"`);
      expect(page.text).not.toContain('"/static/');
      expect(page.headers["content-security-policy"]).toContain("default-src 'self' https://cdn.example.com;");
      expect(page.headers["content-security-policy"]).toContain("img-src 'self' https://cdn.example.com data:");
    });

    test("the source tree's unhashed files (no build) are served too, but must be revalidated", async () => {
      const shop = await start({});
      const script = await shop.request({ path: "/static/app.js" });
      expect(script.status).toBe(200);
      expect(script.headers["cache-control"]).toBe("no-cache");
      expect((await shop.request({ path: "/static/logo.svg" })).headers["cache-control"]).toBe("no-cache");
    });
  });
});

describe("STATIC_BASE_URL", () => {
  const base = () => testEnv({ primaryUrl: "postgres://u:p@127.0.0.1:5432/db", replicaUrl: "" } as never);
  test("is /static/ by default, a path or an http(s) URL, always ending in /", () => {
    expect(loadConfig(base()).STATIC_BASE_URL).toBe("/static/");
    expect(loadConfig({ ...base(), STATIC_BASE_URL: "https://shop.example.com/static" }).STATIC_BASE_URL).toBe(
      "https://shop.example.com/static/",
    );
    expect(loadConfig({ ...base(), STATIC_BASE_URL: "/assets/" }).STATIC_BASE_URL).toBe("/assets/");
    for (const bad of ["static/", "//evil.example.com/", "ftp://x/static/", "javascript:alert(1)"]) {
      expect(() => loadConfig({ ...base(), STATIC_BASE_URL: bad })).toThrow(ConfigError);
    }
  });
});
