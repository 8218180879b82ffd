/**
 * Schema migrations, applied in order and recorded in schema_migrations. Plain SQL that both
 * SQLite and PostgreSQL accept, so one list serves the embedded and the shared-store modes;
 * where a statement must differ, `postgres` holds PostgreSQL's variant of `sql` (same version).
 */
export interface Migration {
  version: number;
  sql: string;
  /** PostgreSQL's text when it cannot run `sql` as is; absent when `sql` is portable. */
  postgres?: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        round INTEGER NOT NULL,
        version_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE versions (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        round INTEGER NOT NULL,
        hash TEXT NOT NULL,
        parent_id TEXT,
        num_samples INTEGER NOT NULL,
        unit_ids TEXT NOT NULL,
        test_accuracy DOUBLE PRECISION,
        test_loss DOUBLE PRECISION,
        created_at TEXT NOT NULL,
        UNIQUE (job_id, round)
      );
      CREATE TABLE updates (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL REFERENCES jobs(id),
        round INTEGER NOT NULL,
        unit_id TEXT NOT NULL,
        contributor_id TEXT NOT NULL,
        base_version_id TEXT NOT NULL,
        num_samples INTEGER NOT NULL,
        loss DOUBLE PRECISION NOT NULL,
        blob_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (job_id, round, unit_id)
      );
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        meta TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE contributors (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL UNIQUE,
        backend TEXT,
        units_done INTEGER NOT NULL DEFAULT 0,
        samples_done INTEGER NOT NULL DEFAULT 0,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
      );
    `,
  },
  {
    // API tokens beside ADMIN_TOKEN and VIEWER_TOKEN; the secret itself is never stored.
    version: 2,
    sql: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
  {
    // The model registry (coordinator/src/registry): names, aliases with their move history,
    // and versions of imported inference-only models. Aliases are keyed by model name; a
    // rename updates every table in one transaction.
    version: 3,
    sql: `
      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        job_id TEXT UNIQUE REFERENCES jobs(id),
        auto_promote TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE imported_versions (
        id TEXT PRIMARY KEY,
        model_name TEXT NOT NULL,
        hash TEXT NOT NULL,
        topology_hash TEXT NOT NULL,
        parent_id TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE aliases (
        model_name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version_id TEXT NOT NULL,
        canary_version_id TEXT,
        canary_fraction DOUBLE PRECISION,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model_name, alias)
      );
      CREATE TABLE alias_moves (
        model_name TEXT NOT NULL,
        alias TEXT NOT NULL,
        seq INTEGER NOT NULL,
        version_id TEXT NOT NULL,
        canary_version_id TEXT,
        canary_fraction DOUBLE PRECISION,
        actor TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model_name, alias, seq)
      );
    `,
  },
  {
    // Spot-checks and reputation (coordinator/src/reputation): one row per checked update, and
    // per contributor its agreement counts and quarantine. A table of its own rather than
    // columns on contributors, so other changes to contributors do not collide with it.
    version: 4,
    sql: `
      CREATE TABLE spot_checks (
        update_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        unit_id TEXT NOT NULL,
        contributor_id TEXT NOT NULL,
        backend TEXT,
        passed INTEGER NOT NULL,
        distance DOUBLE PRECISION NOT NULL,
        replica_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX spot_checks_round ON spot_checks (job_id, round);
      CREATE TABLE reputation (
        contributor_id TEXT PRIMARY KEY,
        checks_passed INTEGER NOT NULL DEFAULT 0,
        checks_failed INTEGER NOT NULL DEFAULT 0,
        quarantined INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    // Contributor bans from the console (console helper's reserved number): a banned
    // contributor is refused at join. Keyed by contributor id, which stands for its client id.
    version: 5,
    sql: `
      CREATE TABLE contributor_bans (
        contributor_id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        banned_at TEXT NOT NULL
      );
    `,
  },
  {
    // Hyperparameter sweeps (coordinator/src/sweeps): a sweep and its trials, each trial a job.
    // JSON columns are TEXT; a trial's curve is read from its job's versions.
    version: 6,
    sql: `
      CREATE TABLE sweeps (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        ended_at TEXT
      );
      CREATE TABLE sweep_trials (
        id TEXT PRIMARY KEY,
        sweep_id TEXT NOT NULL REFERENCES sweeps(id),
        idx INTEGER NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL,
        job_id TEXT REFERENCES jobs(id),
        rung INTEGER NOT NULL,
        error TEXT,
        repro TEXT,
        reruns TEXT NOT NULL,
        created_at TEXT NOT NULL,
        ended_at TEXT,
        UNIQUE (sweep_id, idx)
      );
    `,
  },
  {
    // Strategies (strategies helper's reserved number): the blob of a strategy's state after a
    // version, e.g. DiLoCo's outer momentum. Bytes stay in the BlobStore; this is their hash.
    version: 7,
    sql: `
      ALTER TABLE versions ADD COLUMN state_hash TEXT;
    `,
  },
  {
    // Dataset versions (datasets/registry.ts): the number and content hash become columns so
    // that (name, version) is unique and a name's versions are one indexed query. Rows written
    // before carry both in their meta JSON (or nothing: the first Fashion-MNIST import, which
    // was version 1); JSON access differs, so PostgreSQL has its own text. Regression versions'
    // test metrics (R2, MAE, RMSE) get columns beside test_accuracy and test_loss.
    version: 8,
    sql: `
      ALTER TABLE datasets ADD COLUMN version INTEGER;
      ALTER TABLE datasets ADD COLUMN hash TEXT;
      UPDATE datasets SET version = COALESCE(json_extract(meta, '$.version'), 1),
        hash = json_extract(meta, '$.hash');
      CREATE UNIQUE INDEX datasets_name_version ON datasets (name, version);
      ALTER TABLE versions ADD COLUMN test_r2 DOUBLE PRECISION;
      ALTER TABLE versions ADD COLUMN test_mae DOUBLE PRECISION;
      ALTER TABLE versions ADD COLUMN test_rmse DOUBLE PRECISION;
    `,
    postgres: `
      ALTER TABLE datasets ADD COLUMN version INTEGER;
      ALTER TABLE datasets ADD COLUMN hash TEXT;
      UPDATE datasets SET version = COALESCE((meta::json->>'version')::INTEGER, 1),
        hash = meta::json->>'hash';
      CREATE UNIQUE INDEX datasets_name_version ON datasets (name, version);
      ALTER TABLE versions ADD COLUMN test_r2 DOUBLE PRECISION;
      ALTER TABLE versions ADD COLUMN test_mae DOUBLE PRECISION;
      ALTER TABLE versions ADD COLUMN test_rmse DOUBLE PRECISION;
    `,
  },
  {
    // Security (docs/SECURITY.md): the audit log of admin actions, append-only (the triggers
    // refuse UPDATE and DELETE, so a bug or a stolen admin token cannot rewrite history through
    // the API); contributors paged by last_seen.
    version: 9,
    sql: `
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        address TEXT NOT NULL,
        detail TEXT
      );
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE INDEX contributors_last_seen ON contributors (last_seen, id);
    `,
    postgres: `
      CREATE TABLE audit_log (
        seq BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        address TEXT NOT NULL,
        detail TEXT
      );
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE INDEX contributors_last_seen ON contributors (last_seen, id);
    `,
  },
  {
    // Usage accounting (coordinator/src/usage): additive counters per UTC day, job and
    // contributor ('' where a counter has no contributor, e.g. weights served by job). Device
    // time is split by backend class so a price table can tell GPU from CPU hours.
    // updates.blob_state is retention's mark (usage/retention.ts): NULL while the update's blob
    // is held, 'released' once no round or check needs it, 'collected' once the blob is gone.
    version: 10,
    sql: `
      CREATE TABLE usage (
        day TEXT NOT NULL,
        job_id TEXT NOT NULL,
        contributor_id TEXT NOT NULL,
        gpu_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        cpu_device_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        samples BIGINT NOT NULL DEFAULT 0,
        units BIGINT NOT NULL DEFAULT 0,
        bytes_down BIGINT NOT NULL DEFAULT 0,
        bytes_up BIGINT NOT NULL DEFAULT 0,
        coordinator_cpu_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        PRIMARY KEY (day, job_id, contributor_id)
      );
      CREATE INDEX usage_job ON usage (job_id, day);
      ALTER TABLE updates ADD COLUMN blob_state TEXT;
    `,
  },
  {
    // Version pruning (usage/version-retention.ts): versions.weights_state is NULL while the
    // version's weights are held, 'released' once the policy pruned it, 'collected' once its
    // blobs are gone; the row stays as the lineage record. pruned_at says when.
    version: 11,
    sql: `
      ALTER TABLE versions ADD COLUMN weights_state TEXT;
      ALTER TABLE versions ADD COLUMN pruned_at TEXT;
    `,
  },
  {
    // Leases in the store (lease-records.ts): with several processes a job's new owner honours
    // the units its dead owner handed out. A row lives while its lease may still deliver;
    // live or late is read from the deadline. `unit` is the WorkUnit as handed out, without
    // the model (the job's spec has it). Times are epoch milliseconds.
    version: 12,
    sql: `
      CREATE TABLE leases (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        unit_id TEXT NOT NULL,
        contributor_id TEXT NOT NULL,
        deadline BIGINT NOT NULL,
        issued_at BIGINT NOT NULL,
        base_version_id TEXT NOT NULL,
        base_round INTEGER NOT NULL,
        unit TEXT
      );
      CREATE INDEX leases_job ON leases (job_id, round);
      CREATE INDEX leases_deadline ON leases (deadline);
    `,
  },
];
