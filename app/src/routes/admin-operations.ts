/**
 * The operator's routes a climb calls on a running server (Bearer ADMIN_TOKEN, rate limited as every admin route):
 *
 *   POST /admin/sessions/handoff   hands this process's memory sessions over before it is replaced (session/
 *                                  handoff.ts): 200 { sessions: <how many were written> }, and every later change
 *                                  is written through until the process exits. Idempotent. With sessions in Redis,
 *                                  200 { sessions: 0 }: there is nothing to hand over. 503 when the catalog primary
 *                                  cannot take them (call it again).
 *   POST /admin/maintenance        { "writes": "fenced" | "open" | "moved" }: the write fence (http/write-fence.ts).
 *                                  200 { writes, held, pid }; 409 `not_fenced` for `moved` on a server that is not
 *                                  fenced, `already_moved` for any change after `moved`.
 *
 * Under /admin, not /api: the fence holds shop writes under /api, never these.
 */
import type { FastifyPluginAsync } from "fastify";
import { requireAdminToken } from "../http/admin-auth";
import { badRequest } from "../http/errors";
import { WRITE_STATES, type WriteFence, type WritesState } from "../http/write-fence";
import type { HandoffSessionStore } from "../session/handoff";

/** Options of {@link adminOperationRoutes}. */
export interface AdminOperationRoutesOptions {
  adminToken: string;
  /** The app's session store. */
  sessions: HandoffSessionStore;
  fence: WriteFence;
}

/** The admin operations plugin; see the module comment. */
export const adminOperationRoutes: FastifyPluginAsync<AdminOperationRoutesOptions> = async (
  app,
  { adminToken, sessions, fence },
) => {
  const guard = requireAdminToken(adminToken);

  app.post("/admin/sessions/handoff", { onRequest: guard }, async () => ({ sessions: await sessions.handOver() }));

  app.post<{ Body: { writes: WritesState } }>(
    "/admin/maintenance",
    {
      onRequest: guard,
      schema: {
        body: {
          type: "object",
          required: ["writes"],
          properties: { writes: { type: "string" } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { writes } = request.body;
      // Checked here rather than by a schema enum, whose 400 would not say which values are allowed.
      if (!(WRITE_STATES as readonly string[]).includes(writes))
        throw badRequest("invalid_writes", `writes must be one of ${WRITE_STATES.join(", ")}`, {
          field: "writes",
          allowed: WRITE_STATES,
        });
      return fence.set(writes);
    },
  );
};
