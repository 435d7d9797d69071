-- twostep schema 1: one table per store tree.
--
-- Every table has the record as `value jsonb` (the source of truth, written by the server)
-- under its `key`, plus columns GENERATED from the value for what operators query and index
-- (never written directly, always in step with the record). Keys are text in the "C"
-- collation, so ordered scans match the embedded store's byte order; the audit log is keyed
-- by its numeric id.

-- Total functions for the generated columns: a malformed or out-of-range field gives NULL
-- instead of failing the write.
CREATE FUNCTION twostep_ts(v jsonb) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'number'
        THEN to_timestamp(least(greatest(v::numeric, 0), 100000000000)::double precision) END;

CREATE FUNCTION twostep_ms(v jsonb) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'number'
        THEN to_timestamp(least(greatest(v::numeric, 0), 100000000000000)::double precision / 1000) END;

CREATE FUNCTION twostep_int(v jsonb) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'number'
        THEN least(greatest(v::numeric, -9223372036854775808), 9223372036854775807)::bigint END;

CREATE FUNCTION twostep_bool(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'boolean' THEN v::boolean END;

-- Unique, increasing ids (audit events); handed out in blocks.
CREATE SEQUENCE twostep_ids AS bigint START 1 INCREMENT 64;

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE orgs (
    key              text COLLATE "C" PRIMARY KEY,
    value            jsonb NOT NULL,
    require_two_step boolean GENERATED ALWAYS AS (twostep_bool(value -> 'policy' -> 'require_two_step')) STORED,
    created_at       timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED
);

CREATE TABLE users (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    user_id    text GENERATED ALWAYS AS (value ->> 'id') STORED,
    org        text GENERATED ALWAYS AS (value ->> 'org') STORED,
    totp       boolean GENERATED ALWAYS AS (coalesce(twostep_bool(value -> 'two_step' -> 'totp' -> 'confirmed'), false)) STORED,
    sms        boolean GENERATED ALWAYS AS (coalesce(twostep_bool(value -> 'two_step' -> 'sms' -> 'confirmed'), false)) STORED,
    email      boolean GENERATED ALWAYS AS (coalesce(twostep_bool(value -> 'two_step' -> 'email' -> 'confirmed'), false)) STORED,
    origin     text GENERATED ALWAYS AS (value -> 'two_step' ->> 'origin') STORED,
    epoch      bigint GENERATED ALWAYS AS (twostep_int(value -> 'epoch')) STORED,
    created_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED
) WITH (fillfactor = 70);  -- every accepted code rewrites its user: room for HOT updates
CREATE INDEX users_org ON users (org, key);
CREATE INDEX users_user_id ON users (user_id);

CREATE TABLE operators (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    created_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED
);

CREATE TABLE sessions (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    username   text GENERATED ALWAYS AS (value ->> 'username') STORED,
    client     text GENERATED ALWAYS AS (value ->> 'client') STORED,
    scope      text GENERATED ALWAYS AS (value ->> 'scope') STORED,
    device_id  text GENERATED ALWAYS AS (value ->> 'device_id') STORED,
    created_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE operator_sessions (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    operator   text GENERATED ALWAYS AS (value ->> 'operator') STORED,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
);
CREATE INDEX operator_sessions_expires_at ON operator_sessions (expires_at);

CREATE TABLE challenges (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    username   text GENERATED ALWAYS AS (value ->> 'username') STORED,
    client     text GENERATED ALWAYS AS (value ->> 'client') STORED,
    channel    text GENERATED ALWAYS AS (value ->> 'channel') STORED,
    created_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
) WITH (fillfactor = 70);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE devices (
    key           text COLLATE "C" PRIMARY KEY,
    value         jsonb NOT NULL,
    username      text GENERATED ALWAYS AS (value ->> 'username') STORED,
    user_id       text GENERATED ALWAYS AS (value ->> 'user_id') STORED,
    name          text GENERATED ALWAYS AS (value ->> 'name') STORED,
    revoked       boolean GENERATED ALWAYS AS (twostep_bool(value -> 'revoked')) STORED,
    registered_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'registered_at')) STORED,
    last_seen_at  timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'last_seen_at')) STORED
);
CREATE INDEX devices_username ON devices (username);

CREATE TABLE nonces (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    device_id  text GENERATED ALWAYS AS (value ->> 'device_id') STORED,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);

CREATE TABLE throttle (
    key           text COLLATE "C" PRIMARY KEY,
    value         jsonb NOT NULL,
    failures      bigint GENERATED ALWAYS AS (twostep_int(value -> 'failures')) STORED,
    locked        boolean GENERATED ALWAYS AS (twostep_bool(value -> 'locked')) STORED,
    blocked_until timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'blocked_until')) STORED,
    expires_at    timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
) WITH (fillfactor = 70);
CREATE INDEX throttle_locked ON throttle (key) WHERE locked;
CREATE INDEX throttle_expires_at ON throttle (expires_at);

-- Failed attempts per client address (key: the address), in a rolling window.
CREATE TABLE address_failures (
    key          text COLLATE "C" PRIMARY KEY,
    value        jsonb NOT NULL,
    count        bigint GENERATED ALWAYS AS (twostep_int(value -> 'count')) STORED,
    window_start timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'start')) STORED,
    expires_at   timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
) WITH (fillfactor = 70);
CREATE INDEX address_failures_expires_at ON address_failures (expires_at);

-- Request rates (`device:ID`, `registration:ADDRESS`), in a rolling window.
CREATE TABLE rates (
    key          text COLLATE "C" PRIMARY KEY,
    value        jsonb NOT NULL,
    count        bigint GENERATED ALWAYS AS (twostep_int(value -> 'count')) STORED,
    window_start timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'start')) STORED,
    expires_at   timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
) WITH (fillfactor = 70);
CREATE INDEX rates_expires_at ON rates (expires_at);

-- SMS/email limits: `cooldown:DESTINATION-HASH` (until), and daily counters
-- `user:NAME:DAY`, `dest:DESTINATION-HASH:DAY`, `org:NAME:DAY` (count).
CREATE TABLE message_limits (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    count      bigint GENERATED ALWAYS AS (twostep_int(value -> 'count')) STORED,
    until      timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'until')) STORED,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
) WITH (fillfactor = 70);
CREATE INDEX message_limits_expires_at ON message_limits (expires_at);

-- Single-use registration nonces (devices and agents).
CREATE TABLE registration_nonces (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    expires_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'expires_at')) STORED
);
CREATE INDEX registration_nonces_expires_at ON registration_nonces (expires_at);

-- The one-time setup token (its MAC) while no operator exists.
CREATE TABLE setup (
    key        text COLLATE "C" PRIMARY KEY,
    value      jsonb NOT NULL,
    created_at timestamptz GENERATED ALWAYS AS (twostep_ts(value -> 'created_at')) STORED
);

CREATE TABLE audit (
    id       bigint PRIMARY KEY,
    value    jsonb NOT NULL,
    at       timestamptz GENERATED ALWAYS AS (twostep_ms(value -> 'at_ms')) STORED,
    kind     text GENERATED ALWAYS AS (value ->> 'kind') STORED,
    username text GENERATED ALWAYS AS (value ->> 'user') STORED,
    org      text GENERATED ALWAYS AS (value ->> 'org') STORED,
    client   text GENERATED ALWAYS AS (value ->> 'client') STORED,
    address  text GENERATED ALWAYS AS (value ->> 'address') STORED,
    operator text GENERATED ALWAYS AS (value ->> 'operator') STORED,
    detail   text GENERATED ALWAYS AS (value ->> 'detail') STORED
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_username ON audit (username, id);
CREATE INDEX audit_org ON audit (org, id);
CREATE INDEX audit_kind ON audit (kind, at);
