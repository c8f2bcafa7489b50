-- The schema of nestjs-intelligence's PostgreSQL resource, version 1: idempotency records
-- (library) and learned patterns (the intelligence service's PatternStore).
-- Applied by node-pg-migrate (`npm run db:migrate`, or `database.migrateOnBoot`); it keeps
-- its own bookkeeping in the table intelligence_migrations.

-- Up Migration

-- One row per handled message per consumer group and handler. A row whose expires_at has
-- passed counts as absent and is purged in bounded batches.
CREATE TABLE intelligence_idempotency_keys (
  consumer_group text NOT NULL,
  handler text NOT NULL,
  idempotency_key text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (consumer_group, handler, idempotency_key)
);

CREATE INDEX intelligence_idempotency_keys_expires_at_idx
  ON intelligence_idempotency_keys (expires_at);

-- One row per pattern. Status changes are compare-and-set updates on status; revision counts
-- every change of the row (1: just created).
CREATE TABLE intelligence_patterns (
  pattern_id text PRIMARY KEY,
  sequence text[] NOT NULL CHECK (cardinality(sequence) > 0),
  occurrences integer NOT NULL CHECK (occurrences > 0),
  status text NOT NULL DEFAULT 'candidate'
    CHECK (status IN ('candidate', 'validated', 'deprecated')),
  first_seen_session text NOT NULL,
  sessions text[] NOT NULL,
  transitions jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(transitions) = 'array'),
  revision integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  list_order bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX intelligence_patterns_list_order_idx ON intelligence_patterns (list_order);

-- Down Migration

DROP TABLE intelligence_patterns;

DROP TABLE intelligence_idempotency_keys;
