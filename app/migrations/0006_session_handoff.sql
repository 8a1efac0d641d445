-- Sessions handed over by a web process that keeps them in memory (steps 1-6) when it is replaced: a climb's roll,
-- an instance refresh, a SIGTERM (app/src/session/handoff.ts). The process writes every live session here, and
-- from then on each change, until it exits; any process (memory or Redis sessions alike) that misses a signed
-- session id claims it with one DELETE ... RETURNING, so exactly one process gets it, and keeps it in its own store.
-- `data` is what the store held: the session, or a retired id's tombstone (session/tombstone.ts), so that a
-- checkout's rotation is not undone by the move. Rows expire with the session; a handover sweeps expired ones.
CREATE TABLE session_handoff (
  sid        text        PRIMARY KEY,
  data       jsonb       NOT NULL,
  expires_at timestamptz NOT NULL
);
