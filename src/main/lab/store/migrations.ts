import type { Database } from './database';

/**
 * The schema, as plain SQL applied in order and recorded in `schema_migrations`. Kept in the
 * subset PostgreSQL and PGlite share. Never edit an applied migration: add the next one.
 * (Kept as strings rather than .sql files so the bundled app carries them without a copy step.)
 */
export const MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly sql: string }[] = [
  {
    version: 1,
    name: 'runs, intervals, histograms, alerts, loop-back, baselines, audit',
    sql: `
CREATE TABLE runs (
  id             text PRIMARY KEY,
  rig            text NOT NULL,
  scenario       text NOT NULL,
  status         text NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'aborted')),
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  heartbeat_at   timestamptz NOT NULL,
  interval_count integer NOT NULL DEFAULT 0,
  e2e_p99_ms     double precision,
  info           jsonb NOT NULL DEFAULT '{}',
  environment    jsonb,
  summary        jsonb
);
CREATE INDEX runs_rig_scenario_started ON runs (rig, scenario, started_at DESC);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE run_intervals (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq    integer NOT NULL,
  at     timestamptz NOT NULL,
  frame  jsonb NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_histograms (
  run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name        text NOT NULL,
  total_count bigint NOT NULL,
  encoded     text NOT NULL,
  PRIMARY KEY (run_id, name)
);

-- alert_id: one firing episode of an alert rule; its firing and resolved events update one row.
CREATE TABLE alerts (
  id          bigserial PRIMARY KEY,
  alert_id    text UNIQUE,
  run_id      text REFERENCES runs (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  resolved_at timestamptz,
  severity    text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  metric      text,
  message     text NOT NULL,
  detail      jsonb
);
CREATE INDEX alerts_run ON alerts (run_id, at);

CREATE TABLE loopback_runs (
  id         text PRIMARY KEY,
  run_id     text REFERENCES runs (id) ON DELETE SET NULL,
  rig        text NOT NULL,
  started_at timestamptz NOT NULL,
  summary    jsonb NOT NULL
);
CREATE INDEX loopback_runs_run ON loopback_runs (run_id);

CREATE TABLE baselines (
  rig       text NOT NULL,
  scenario  text NOT NULL,
  run_id    text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  marked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rig, scenario)
);

-- One row per outcome. (source, seq) identifies a record so a replayed batch is never doubled.
CREATE TABLE audit_messages (
  source    text NOT NULL,
  seq       bigint NOT NULL,
  at        timestamptz NOT NULL,
  user_name text NOT NULL,
  text      text NOT NULL,
  status    text NOT NULL,
  code      text,
  detail    text,
  changes   jsonb,
  validate_ns bigint,
  limit_ns    bigint,
  store_ns    bigint,
  encode_ns   bigint,
  send_ns     bigint,
  e2e_ns      bigint,
  PRIMARY KEY (source, seq)
);
CREATE INDEX audit_messages_at ON audit_messages (at);
`,
  },
  {
    version: 2,
    name: 'lab notebook: notes and tags on runs and loop-back measurements',
    sql: `
CREATE TABLE notes (
  id       bigserial PRIMARY KEY,
  kind     text NOT NULL CHECK (kind IN ('run', 'loopback')),
  subject  text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now(),
  text     text NOT NULL,
  tags     text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX notes_subject ON notes (subject);
`,
  },
];

/**
 * Applies the migrations not yet recorded, each in its own transaction, under an advisory
 * lock so two processes starting together do not race. Returns the versions applied.
 */
export async function applyMigrations(database: Database): Promise<number[]> {
  await database.execute(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const done = await database.transaction(async (transaction) => {
      await transaction.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.cvlab_migrations'))`);
      const rows = await transaction.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (rows.length > 0) return false;
      await transaction.execute(migration.sql);
      await transaction.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
