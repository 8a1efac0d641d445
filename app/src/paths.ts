/**
 * Where the app's files (SQL migrations, the storefront's static files) are, relative to the running code.
 *
 * In the source tree this file is app/src/paths.ts and the files sit in app/migrations and app/static. In the
 * bundle that scripts/build-app.mjs makes, all code is in dist/app/server.js (or worker.js) and the files are
 * copied beside it, to dist/app/migrations and dist/app/static. The build defines `__SHOP_BUNDLED__` to tell.
 */
import path from "node:path";

declare const __SHOP_BUNDLED__: boolean | undefined;

const bundled = typeof __SHOP_BUNDLED__ !== "undefined" && __SHOP_BUNDLED__;

/** The directory holding `migrations/` and `static/`. */
export const APP_ROOT = bundled ? __dirname : path.resolve(__dirname, "..");

/** SQL migrations, applied in file-name order. */
export const MIGRATIONS_DIR = path.join(APP_ROOT, "migrations");

/** The storefront's files. */
export const STATIC_DIR = path.join(APP_ROOT, "static");
