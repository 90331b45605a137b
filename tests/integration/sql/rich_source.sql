-- rich_source.sql: builds a source database full of the hard cases of a logical copy.
-- Run as superuser on a fresh, empty database:  psql -X -v ON_ERROR_STOP=1 -d <db> -f rich_source.sql
-- Deterministic (no random()/now() in data); no extensions; roles fx_owner / fx_reader only.

-- == Session: fixed settings so literals parse the same everywhere ==
SET client_encoding = 'UTF8';
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
SET IntervalStyle = 'postgres';
SET lc_monetary = 'C';
SET xmloption = content;

-- == Roles (cluster-global, so created idempotently) and what fx_owner needs ==
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_owner') THEN CREATE ROLE fx_owner NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fx_reader') THEN CREATE ROLE fx_reader NOLOGIN; END IF;
END $$;
GRANT CREATE ON SCHEMA public TO fx_owner;
CREATE SCHEMA "Mixed Case Schema" AUTHORIZATION fx_owner;

-- Everything below is created (and so owned) by fx_owner, until the database-level section.
SET ROLE fx_owner;

-- == Built-in numeric types: min/max, NaN, +-Infinity, -0, huge precision, money ==
CREATE TABLE types_numeric (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, num numeric,
  num_fixed numeric(30,10), f4 float4, f8 float8, m money);
INSERT INTO types_numeric VALUES
  (1, -32768, -2147483648, -9223372036854775808, '-Infinity', -99999999999999999999.9999999999,
      '-Infinity', '-Infinity', '-92233720368547758.08'),
  (2, 32767, 2147483647, 9223372036854775807, 'Infinity', 99999999999999999999.9999999999,
      'Infinity', 'Infinity', '92233720368547758.07'),
  (3, 0, 0, 0, 'NaN', 'NaN', 'NaN', 'NaN', 0),
  (4, -1, 1, -1, -0.0000000000000000000000000000000000001, 0.0000000001, '-0', '-0', '-0.01'),
  (5, 1, -1, 1, (repeat('9', 1000) || '.' || repeat('1', 1000))::numeric, 1.5, '1.4e-45', '4.9e-324', 1),
  (6, 2, -2, 2, ('0.' || repeat('0', 16000) || '7')::numeric, -1.5, '3.4028235e38', '1.7976931348623157e308', 12.34),
  (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Character types: unicode, control chars, quotes, backslashes, COPY markers, empty strings, bytea ==
CREATE TABLE types_text (id int PRIMARY KEY, ch char(5), vc varchar(20), t text, nm name, qc "char", b bytea);
INSERT INTO types_text VALUES
  (1, 'ab', 'hello', E'tab\there\nnewline\r\ncrlf', 'simple', 'a', '\x00'::bytea),
  (2, '', '', '', '', '', ''::bytea),
  (3, 'é😀', 'e' || U&'\0301' || '😀👨‍👩‍👧', E'quotes '' " backslash \\ literal \\N and NULL', 'ünï 表', E'\\303',
      '\x000102ff00'::bytea),
  (4, '     ', 'مرحبا', E'\\.', repeat('n', 63), '\', (SELECT decode(string_agg(lpad(to_hex(g), 2, '0'), '' ORDER BY g), 'hex') FROM generate_series(0, 255) g)),
  (5, 'x', E'a\\b', E'line1\n\\.\nline3 with \\x00 text, {braces}, "dq", \x01 ctrl', 'NULL', 'N', '\x5c4e'::bytea),
  (6, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Date/time types: +-infinity, extremes, BC, odd time zones, intervals ==
CREATE TABLE types_datetime (id int PRIMARY KEY, d date, t time, ttz timetz, ts timestamp, tstz timestamptz, iv interval);
INSERT INTO types_datetime VALUES
  (1, '-infinity', '00:00:00', '00:00:00+15:59', '-infinity', '-infinity', '-178000000 years'),
  (2, 'infinity', '24:00:00', '24:00:00-15:59', 'infinity', 'infinity', '178000000 years'),
  (3, '4714-11-24 BC', '00:00:00.000001', '12:34:56.789012+05:30', '4714-11-24 00:00:00 BC',
      '4714-11-24 00:00:00+00 BC', '1 mon -1 day 00:00:00.000001'),
  (4, '5874897-12-31', '23:59:59.999999', '23:59:59.999999-12', '294276-12-31 23:59:59.999999',
      '294276-12-31 23:59:59.999999+00', '-1 year -2 mons +3 days -04:05:06.789'),
  (5, '2000-01-01', '12:00', '12:00+00', '2000-01-01 00:00:00', '1970-01-01 00:00:00+00', '0'),
  (6, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Network, bit string, uuid, bool, pg_lsn, oid ==
CREATE TABLE types_misc (id int PRIMARY KEY, ip inet, net cidr, mac macaddr, mac8 macaddr8, b bit(8), vb varbit(16),
  bo bool, u uuid, lsn pg_lsn, o oid);
INSERT INTO types_misc VALUES
  (1, '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', B'00000000', B'',
      false, '00000000-0000-0000-0000-000000000000', '0/0', 0),
  (2, '255.255.255.255/32', '255.255.255.255/32', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', B'11111111',
      B'1111111111111111', true, 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF/FFFFFFFF', 4294967295),
  (3, '2001:db8::1/64', '2001:db8::/32', '08:00:2b:01:02:03', '08:00:2b:ff:fe:01:02:03', B'10100101', B'101',
      true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '16/B374D848', 1259),
  (4, '::ffff:192.168.1.1', '::/0', '01:23:45:67:89:ab', '01:23:45:67:89:ab:cd:ef', B'00000001', B'0',
      false, '123e4567-e89b-12d3-a456-426614174000', '1/0', 1),
  (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Document types: json (keeps whitespace/duplicate keys), jsonb, xml, tsvector, tsquery ==
CREATE TABLE types_doc (id int PRIMARY KEY, j json, jb jsonb, x xml, tv tsvector, tq tsquery);
INSERT INTO types_doc VALUES
  (1, '{"b":1,  "a":[1,2.50,null],  "a":"dup"}', '{"b":1, "a":[1,2.50,null], "a":"dup"}',
      '<?xml version="1.0"?><root a="1">x &amp; y</root>', 'a fat cat:1A,3B sat:2 on:4 the:5 mat:6D',
      'fat & (rat | !cat) <-> mouse:*'),
  (2, '"str \u00e9 \ud83d\ude00"', '[]', 'text node<br/>&lt;tail', '', '!x'),
  (3, 'null', 'null', '', $$'  spaced ' 'it''s' 'back\\slash'$$, $$'it''s' & 'a b'$$),
  (4, '{"deep":{"n":1e400}}', '{"n": 1.000000000000000000001, "s": "☃\n\t\"", "e": {}, "z": [[], {}]}',
      '<a xmlns="urn:x"><b>ünïcødé 表</b><![CDATA[<raw>]]></a>', 'ünïcødé:1 表', 'ünïcødé | 表'),
  (5, NULL, NULL, NULL, NULL, NULL);

-- == Geometric types ==
CREATE TABLE types_geometric (id int PRIMARY KEY, p point, l line, ls lseg, bx box, pa path, pg polygon, c circle);
INSERT INTO types_geometric VALUES
  (1, '(0,0)', '{1,-1,0}', '[(0,0),(1,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(2,0))', '<(0,0),5>'),
  (2, '(-1.5e300,1e-300)', '{0,1,-5}', '[(-1,-2),(3,4.5)]', '(3,4),(-1,-2)', '((0,0),(10,0),(10,10))',
      '((0,0),(0,1),(1,1),(1,0))', '<(1.5,-2.5),0>'),
  (3, '(NaN,Infinity)', '{1,0,-1e300}', '[(0,0),(0,0)]', '(0,0),(0,0)', '[(1,1)]', '((1,1))', '<(0,0),1e-300>'),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Range and multirange types, incl. empty and unbounded ==
CREATE TABLE types_ranges (id int PRIMARY KEY, r4 int4range, r8 int8range, rn numrange, rts tsrange,
  rtz tstzrange, rd daterange, mr int4multirange, mn nummultirange);
INSERT INTO types_ranges VALUES
  (1, 'empty', 'empty', 'empty', 'empty', 'empty', 'empty', '{}', '{}'),
  (2, '[1,10)', '(,)', '[1.5,2.5]', '[2020-01-01,infinity)', '(-infinity,"2020-01-01 00:00+00"]',
      '[-infinity,infinity)', '{[1,3),[5,7),[10,)}', '{[0.5,1],(2,3)}'),
  (3, '(,5]', '[-9223372036854775808,9223372036854775807)', '(0,)', '(,"2000-01-01 12:00")',
      '["2000-01-01 00:00+05","2000-01-01 00:00+00")', '(2020-01-01,2020-01-05]', '{(,0],[2,2]}', '{(,)}'),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Arrays: empty, NULL elements, multi-dimensional, non-default lower bounds, awkward text ==
CREATE TABLE types_arrays (id int PRIMARY KEY, ai int[], ai2 int[][], at text[], an numeric[], ab bool[],
  ats timestamptz[], aj jsonb[], aby bytea[], au uuid[]);
INSERT INTO types_arrays VALUES
  (1, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
  (2, '{1,NULL,3}', '{{1,2},{3,4}}', ARRAY['a,b', 'c"d', '{e}', E'f\\g', 'NULL', '', NULL, ' sp ', E'new\nline', '😀'],
      '{NaN,Infinity,-Infinity,-1.5}', '{t,f,NULL}', '{infinity,-infinity,"2020-01-01 00:00:00+00"}',
      ARRAY['{"a":1}', '[]', 'null']::jsonb[], ARRAY['\x00'::bytea, ''::bytea, NULL], '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'),
  (3, '[2:3]={1,2}', '[0:1][-1:0]={{1,2},{3,4}}', '[-5:-4]={x,y}', '{{{1}},{{2}}}', '[3:3]={t}',
      '{NULL}', '{NULL}', '{NULL}', '{NULL,NULL}'),
  (4, '{NULL}', '{{NULL,NULL},{NULL,NULL}}', '{NULL}', '{NULL}', '{NULL}', NULL, NULL, NULL, NULL),
  (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- == User-defined types: enum (sort order != OID order), composite, domains, custom ranges ==
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy';
ALTER TYPE mood ADD VALUE 'miserable' BEFORE 'sad';
CREATE DOMAIN us_zip AS text CHECK (VALUE ~ '^[0-9]{5}$');
CREATE DOMAIN posint AS int NOT NULL CHECK (VALUE > 0);
CREATE TYPE address AS (street text, zip us_zip, geo point);
CREATE TYPE tagged AS (label text, moods mood[]);
CREATE TYPE price_range AS RANGE (subtype = numeric);
CREATE TYPE mood_range AS RANGE (subtype = mood);
CREATE TABLE udt_values (id int PRIMARY KEY, m mood, ms mood[], addr address, addrs address[], zip us_zip,
  qty posint, qtys posint[], pr price_range, prm price_multirange, mr mood_range, tg tagged, tgs tagged[]);
INSERT INTO udt_values VALUES
  (1, 'meh', '{miserable,ecstatic,meh}', ROW('1 Main St', '02139', '(1,2)'),
      ARRAY[ROW('a, "b"', '00000', NULL)::address, NULL, ROW(NULL, NULL, NULL)::address], '90210',
      1, '{1,2,3}', '[1.5,NaN]', '{[1,2),[3,4)}', '[meh,happy)', ROW('x', '{ok,sad}'),
      ARRAY[ROW('y', '{}')::tagged, ROW(NULL, '{NULL,ecstatic}')::tagged]),
  (2, 'miserable', '{}', ROW(E'quote\'s \\ {x}', NULL, '(0,0)'), '{}', '12345',
      2147483647, '[0:0]={7}', 'empty', '{}', 'empty', ROW('', NULL), '{}'),
  (3, NULL, NULL, NULL, NULL, NULL, 5, NULL, NULL, NULL, NULL, NULL, NULL);

-- == Functions used in defaults, CHECKs and indexes (pure, schema-qualified: safe under empty search_path) ==
CREATE FUNCTION public.is_valid_sku(text) RETURNS boolean LANGUAGE sql IMMUTABLE
  AS $$ SELECT $1 ~ '^[A-Z]{3}-[0-9]{4}$' $$;
CREATE FUNCTION public.norm_name(text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT lower(btrim($1)) $$;
CREATE SEQUENCE product_code_seq START 100;
CREATE FUNCTION public.next_product_code() RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RETURN 'P' || lpad(nextval('public.product_code_seq')::text, 6, '0'); END $$;
CREATE FUNCTION public.secret_sum(a int, b int) RETURNS int LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$ BEGIN RETURN a + b; END $$;

-- == Constraints: function CHECK/DEFAULT, NOT VALID check with violators, UNIQUE, partial unique, expression indexes, EXCLUDE ==
CREATE TABLE products (
  id int PRIMARY KEY,
  sku text NOT NULL CONSTRAINT products_sku_check CHECK (public.is_valid_sku(sku)),
  code text NOT NULL DEFAULT public.next_product_code(),
  name text,
  price numeric(12,2),
  active boolean NOT NULL DEFAULT true,
  CONSTRAINT products_code_key UNIQUE (code));
CREATE UNIQUE INDEX products_sku_active_uniq ON products (sku) WHERE active;
CREATE INDEX products_lower_name_idx ON products (lower(name));
CREATE INDEX products_norm_name_idx ON products (public.norm_name(name));
INSERT INTO products (id, sku, name, price, active)
  SELECT g, 'ABC-' || lpad((g % 40)::text, 4, '0'), '  Product ' || g || '  ', (g - 5) * 1.25, g <= 40
  FROM generate_series(1, 60) g;
ALTER TABLE products ADD CONSTRAINT products_price_positive CHECK (price > 0) NOT VALID;  -- rows 1..5 violate
CREATE TABLE reservations (id int PRIMARY KEY, room text NOT NULL, during tstzrange NOT NULL,
  CONSTRAINT reservations_no_overlap EXCLUDE USING gist (during WITH &&));
INSERT INTO reservations
  SELECT g, 'room ' || (g % 3), tstzrange(timestamptz '2024-01-01 00:00+00' + g * interval '1 hour',
                                         timestamptz '2024-01-01 00:00+00' + (g + 1) * interval '1 hour')
  FROM generate_series(1, 100) g;

-- == Identity, generated STORED, serial/bigserial/smallserial, standalone sequences ==
CREATE TABLE id_gen (
  id int GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 5) PRIMARY KEY,
  byd bigint GENERATED BY DEFAULT AS IDENTITY,
  s serial, bs bigserial, ss smallserial,
  price numeric(10,2) NOT NULL, qty int NOT NULL,
  total numeric GENERATED ALWAYS AS (price * qty) STORED);
INSERT INTO id_gen (price, qty) SELECT g * 1.5, g FROM generate_series(1, 20) g;
INSERT INTO id_gen (byd, price, qty) VALUES (500, 9.99, 3);
INSERT INTO id_gen (id, price, qty) OVERRIDING SYSTEM VALUE VALUES (7, 1, 1);
CREATE TABLE only_generated (id int GENERATED ALWAYS AS IDENTITY, twice int GENERATED ALWAYS AS (id * 2) STORED);
INSERT INTO only_generated DEFAULT VALUES; INSERT INTO only_generated DEFAULT VALUES; INSERT INTO only_generated DEFAULT VALUES;
CREATE SEQUENCE seq_not_called START 10;
SELECT setval('seq_not_called', 42, false);        -- nextval() will return 42
CREATE SEQUENCE seq_stepped INCREMENT BY 7 START 3 MINVALUE 3 MAXVALUE 1000000 CACHE 5;
SELECT setval('seq_stepped', 703);                  -- is_called = true, nextval() = 710
CREATE SEQUENCE seq_desc_cycle AS smallint INCREMENT BY -1 MINVALUE -5 MAXVALUE 5 START 0 CYCLE;
SELECT count(nextval('seq_desc_cycle')) FROM generate_series(1, 8);  -- 0,-1..-5, wraps to 5, 4
CREATE SEQUENCE seq_untouched;

-- == Dropped columns (and a fast-default column added later) ==
CREATE TABLE with_dropped (id int PRIMARY KEY, gone1 text, keep1 int, gone2 bytea, keep2 text);
INSERT INTO with_dropped SELECT g, 'gone ' || g, g * 10, '\xdead', 'keep ' || g FROM generate_series(1, 5) g;
ALTER TABLE with_dropped DROP COLUMN gone1, DROP COLUMN gone2;
ALTER TABLE with_dropped ADD COLUMN added int DEFAULT 7;
INSERT INTO with_dropped SELECT g, g * 10, 'keep ' || g, g FROM generate_series(6, 10) g;

-- == Partitions: range with a list-partitioned sub-partition, defaults, reordered attached partition, hash ==
CREATE TABLE measurements (id int NOT NULL, logdate date NOT NULL, region text NOT NULL, reading numeric,
  PRIMARY KEY (id, logdate, region)) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2023 PARTITION OF measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
  PARTITION BY LIST (region);
CREATE TABLE measurements_2024_eu PARTITION OF measurements_2024 FOR VALUES IN ('eu');
CREATE TABLE measurements_2024_us PARTITION OF measurements_2024 FOR VALUES IN ('us', 'ca');
CREATE TABLE measurements_2024_other PARTITION OF measurements_2024 DEFAULT;
CREATE TABLE measurements_default PARTITION OF measurements DEFAULT;
-- a partition whose physical column order (and a dropped column) differs from the parent's
CREATE TABLE measurements_2022 (junk int, reading numeric, region text NOT NULL, logdate date NOT NULL, id int NOT NULL);
ALTER TABLE measurements_2022 DROP COLUMN junk;
ALTER TABLE measurements ATTACH PARTITION measurements_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE INDEX measurements_region_logdate_idx ON measurements (region, logdate);
INSERT INTO measurements
  SELECT g, date '2021-07-01' + (g % 1460), (ARRAY['eu', 'us', 'ca', 'apac'])[g % 4 + 1], g / 8.0
  FROM generate_series(1, 3000) g;
CREATE TABLE hashed (id int PRIMARY KEY, payload text) PARTITION BY HASH (id);
CREATE TABLE hashed_p0 PARTITION OF hashed FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE hashed_p1 PARTITION OF hashed FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE hashed_p2 PARTITION OF hashed FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE hashed_p3 PARTITION OF hashed FOR VALUES WITH (MODULUS 4, REMAINDER 3);
CREATE INDEX hashed_payload_idx ON hashed (payload);
INSERT INTO hashed SELECT g, 'h' || g FROM generate_series(1, 1000) g;

-- == Classic inheritance: rows in parent and both children (copying without ONLY duplicates) ==
CREATE TABLE cities (name text PRIMARY KEY, population int);
CREATE TABLE capitals (state char(2)) INHERITS (cities);
CREATE TABLE villages (well_count int DEFAULT 1) INHERITS (cities);
INSERT INTO cities VALUES ('Springfield', 30000), ('Shelbyville', 25000);
INSERT INTO capitals VALUES ('Sacramento', 500000, 'CA'), ('Albany', 100000, 'NY'), ('Austin', 950000, 'TX');
INSERT INTO villages VALUES ('Hamlet', 120, 2), ('Thorp', 45, 1);

-- == Unlogged table; table without PK holding duplicates; zero-column table ==
CREATE UNLOGGED TABLE session_cache (k text PRIMARY KEY, v jsonb);
INSERT INTO session_cache SELECT 'k' || g, jsonb_build_object('n', g) FROM generate_series(1, 50) g;
CREATE TABLE dupes (a int, b text);
INSERT INTO dupes VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, NULL), (2, NULL), (NULL, NULL), (NULL, NULL);
CREATE TABLE zero_cols ();
INSERT INTO zero_cols DEFAULT VALUES; INSERT INTO zero_cols DEFAULT VALUES; INSERT INTO zero_cols DEFAULT VALUES;

-- == Awkward identifiers: mixed-case schema with a space, reserved words, unicode, quotes in names ==
CREATE TABLE "Mixed Case Schema"."Order" (id int PRIMARY KEY, "user" text NOT NULL,
  "Weird ""quoted"" col" text, "CamelCol" int);
CREATE INDEX "Order_User_Idx" ON "Mixed Case Schema"."Order" ("user", "CamelCol");
INSERT INTO "Mixed Case Schema"."Order"
  SELECT g, 'user' || g, E'v "' || g || E'" \\ ,', g % 3 FROM generate_series(1, 25) g;
CREATE TABLE "select" ("from" int PRIMARY KEY, "where" text,
  "order_id" int REFERENCES "Mixed Case Schema"."Order" (id));
INSERT INTO "select" SELECT g, 'w' || g, g FROM generate_series(1, 10) g;
CREATE TABLE "ünïcødé_表" ("ключ" int PRIMARY KEY, "値" text, "Ω" numeric);
INSERT INTO "ünïcødé_表" VALUES (1, '一', 1.1), (2, '二', NULL), (3, '😀', -3);

-- == regclass / regtype columns (binary form is an OID: differs between servers) ==
CREATE TABLE reg_refs (id int PRIMARY KEY, rc regclass, rt regtype);
INSERT INTO reg_refs VALUES
  (1, 'public.types_numeric', 'integer'),
  (2, '"Mixed Case Schema"."Order"', 'public.mood'),
  (3, 'public."ünïcødé_表"', 'public.mood[]'),
  (4, 'public.hashed', 'public.address'),
  (5, 'pg_catalog.pg_class', 'text[]'),
  (6, NULL, NULL);

-- == Foreign keys: circular DEFERRABLE INITIALLY DEFERRED, ON DELETE CASCADE, self-reference, NOT VALID with orphans ==
CREATE TABLE cyc_a (id int PRIMARY KEY, b_id int NOT NULL);
CREATE TABLE cyc_b (id int PRIMARY KEY, a_id int NOT NULL
  CONSTRAINT cyc_b_a_fk REFERENCES cyc_a DEFERRABLE INITIALLY DEFERRED);
ALTER TABLE cyc_a ADD CONSTRAINT cyc_a_b_fk FOREIGN KEY (b_id) REFERENCES cyc_b DEFERRABLE INITIALLY DEFERRED;
BEGIN;
INSERT INTO cyc_a SELECT g, 11 - g FROM generate_series(1, 10) g;
INSERT INTO cyc_b SELECT g, g FROM generate_series(1, 10) g;
COMMIT;
CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors ON DELETE CASCADE,
  title text NOT NULL);
INSERT INTO authors SELECT g, 'Author ' || g FROM generate_series(1, 10) g;
INSERT INTO books SELECT g, (g * g) % 10 + 1, 'Book ' || g FROM generate_series(1, 40) g;
CREATE TABLE employees (id int PRIMARY KEY, manager_id int REFERENCES employees ON DELETE SET NULL, name text);
INSERT INTO employees SELECT g, CASE WHEN g = 1 THEN NULL ELSE g / 2 END, 'Emp ' || g FROM generate_series(1, 31) g;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, secret_note text);
INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com', 'note ' || g FROM generate_series(1, 20) g;
CREATE TABLE orders_legacy (id int PRIMARY KEY, customer_id int);
INSERT INTO orders_legacy SELECT g, g * 2 FROM generate_series(1, 15) g;   -- customer 22..30 do not exist
ALTER TABLE orders_legacy ADD CONSTRAINT orders_legacy_customer_fk
  FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;

-- == Triggers that must NOT fire during the load: BEFORE INSERT uppercases, AFTER INSERT writes audit_log ==
CREATE TABLE audited (id int PRIMARY KEY, label text NOT NULL);
CREATE TABLE audit_log (log_id bigserial PRIMARY KEY, audited_id int NOT NULL, label text NOT NULL);
INSERT INTO audited VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma');    -- stored lowercase, never audited
CREATE FUNCTION public.audited_upper() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.label := upper(NEW.label); RETURN NEW; END $$;
CREATE FUNCTION public.audited_log() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO public.audit_log (audited_id, label) VALUES (NEW.id, NEW.label); RETURN NULL; END $$;
CREATE TRIGGER audited_a_upper BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION public.audited_upper();
CREATE TRIGGER audited_z_log AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION public.audited_log();
CREATE TRIGGER audited_disabled BEFORE UPDATE ON audited FOR EACH ROW EXECUTE FUNCTION public.audited_upper();
ALTER TABLE audited DISABLE TRIGGER audited_disabled;
INSERT INTO audited VALUES (4, 'delta'), (5, 'epsilon');              -- stored DELTA/EPSILON, 2 audit rows

-- == Row level security: ENABLE + FORCE, policy hides other owners' rows (even from the table owner) ==
CREATE TABLE secrets (id int PRIMARY KEY, owner_name text NOT NULL, payload text);
INSERT INTO secrets SELECT g, (ARRAY['fx_owner', 'fx_reader', 'postgres', 'alice', 'bob'])[g % 5 + 1], 'secret ' || g
  FROM generate_series(1, 25) g;
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner_only ON secrets USING (owner_name = current_user);

-- == Views, security_barrier view, matviews (indexed, stacked, and one never populated) ==
CREATE VIEW v_books AS SELECT b.id, b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;
CREATE VIEW v_own_secrets WITH (security_barrier) AS SELECT id, payload FROM secrets WHERE owner_name = current_user;
CREATE MATERIALIZED VIEW mv_author_stats AS SELECT author_id, count(*) AS n_books FROM books GROUP BY author_id;
CREATE UNIQUE INDEX mv_author_stats_author_idx ON mv_author_stats (author_id);
CREATE MATERIALIZED VIEW mv_prolific AS SELECT author_id, n_books FROM mv_author_stats WHERE n_books >= 8;
CREATE MATERIALIZED VIEW mv_unpopulated AS SELECT id, name FROM authors WITH NO DATA;

-- == Big table: 50k rows of mixed types, with some NULLs ==
CREATE TABLE big_events (id bigint PRIMARY KEY, kind smallint NOT NULL, name text, amount numeric(12,2),
  ratio float8, happened timestamptz, flag boolean, tag uuid, attrs jsonb);
INSERT INTO big_events
  SELECT g, g % 7, CASE WHEN g % 101 = 0 THEN NULL ELSE 'event ' || g END, (g * 1.37)::numeric(12,2),
         CASE WHEN g % 97 = 0 THEN NULL ELSE g / 3.0 END, timestamptz '2020-01-01 00:00+00' + g * interval '1 minute',
         CASE WHEN g % 89 = 0 THEN NULL ELSE g % 2 = 0 END, md5(g::text)::uuid,
         CASE WHEN g % 83 = 0 THEN NULL ELSE jsonb_build_object('i', g, 'sq', g::bigint * g) END
  FROM generate_series(1, 50000) g;
CREATE INDEX big_events_kind_happened_idx ON big_events (kind, happened);

-- == Wide table: 46 columns of rotating types (built dynamically) ==
DO $$
DECLARE
  types text[] := ARRAY['int', 'text', 'numeric(12,3)', 'timestamptz', 'boolean', 'float8', 'date', 'jsonb', 'bytea'];
  exprs text[] := ARRAY['g * $i', $e$'v$i-' || g$e$, 'g * $i / 7.0', $e$timestamptz '2021-01-01 00:00+00' + g * interval '$i min'$e$,
                        '(g + $i) % 3 = 0', 'g / ($i + 0.5)', $e$date '2000-01-01' + g + $i$e$,
                        $e$jsonb_build_object('c', $i, 'g', g)$e$, $e$decode(md5(g::text || '$i'), 'hex')$e$];
  cols text := 'id int PRIMARY KEY';
  vals text := 'g';
  k int;
BEGIN
  FOR i IN 1..45 LOOP
    k := (i - 1) % array_length(types, 1) + 1;
    cols := cols || format(', c%s %s', lpad(i::text, 2, '0'), types[k]);
    vals := vals || format(', CASE WHEN (g + %s) %% 13 = 0 THEN NULL ELSE %s END', i, replace(exprs[k], '$i', i::text));
  END LOOP;
  EXECUTE format('CREATE TABLE wide_table (%s)', cols);
  EXECUTE format('INSERT INTO wide_table SELECT %s FROM generate_series(1, 200) g', vals);
END $$;

-- == TOAST: 3 rows of ~2 MB text and bytea (compressible, incompressible, external storage, NUL bytes) ==
CREATE TABLE toasty (id int PRIMARY KEY, body text, blob bytea, raw_text text);
ALTER TABLE toasty ALTER COLUMN raw_text SET STORAGE EXTERNAL;
INSERT INTO toasty VALUES
  (1, repeat('pghaul toast line ', 116509), decode(repeat('00ff', 1048576), 'hex'), repeat('x', 2097152));
INSERT INTO toasty
  SELECT 2, string_agg(md5(g::text), '' ORDER BY g), decode(string_agg(md5(g::text), '' ORDER BY g), 'hex'), NULL
  FROM generate_series(1, 65536) g;
INSERT INTO toasty VALUES
  (3, repeat('ünïcødé 😀 表 ', 104858), decode(repeat('00', 2097152), 'hex'), repeat(E'\\\t\n', 10));

-- == counters: serial PK, used by other tests for concurrent writes ==
CREATE TABLE counters (id serial PRIMARY KEY, name text NOT NULL UNIQUE, value bigint NOT NULL DEFAULT 0);
INSERT INTO counters (name, value) SELECT 'counter_' || g, g * 100 FROM generate_series(1, 10) g;

-- == Comments on schema, tables, columns, indexes, constraints, functions, types, views, sequences ==
COMMENT ON SCHEMA "Mixed Case Schema" IS 'Schema with mixed case and a space';
COMMENT ON TABLE products IS 'Products: function CHECK, function DEFAULT, NOT VALID check';
COMMENT ON TABLE "Mixed Case Schema"."Order" IS E'Comment with \'quotes\' and ünïcødé';
COMMENT ON COLUMN products.sku IS 'Stock keeping unit, format AAA-0000';
COMMENT ON COLUMN "Mixed Case Schema"."Order"."Weird ""quoted"" col" IS 'Column with quotes in its name';
COMMENT ON INDEX products_sku_active_uniq IS 'Unique SKU among active products only';
COMMENT ON INDEX "Mixed Case Schema"."Order_User_Idx" IS 'Mixed-case index name';
COMMENT ON CONSTRAINT products_price_positive ON products IS 'NOT VALID: legacy rows violate it';
COMMENT ON CONSTRAINT reservations_no_overlap ON reservations IS 'Exclusion constraint on a range';
COMMENT ON FUNCTION public.is_valid_sku(text) IS 'SQL function used in a CHECK constraint';
COMMENT ON FUNCTION public.next_product_code() IS 'plpgsql function used in a column DEFAULT';
COMMENT ON TYPE mood IS 'Enum whose sort order differs from its OID order';
COMMENT ON MATERIALIZED VIEW mv_author_stats IS 'Matview with a unique index';
COMMENT ON SEQUENCE seq_stepped IS 'Custom increment, advanced by setval';

-- == Privileges: table, column, schema, function grants; EXECUTE revoked from PUBLIC; default privileges ==
GRANT USAGE ON SCHEMA "Mixed Case Schema" TO fx_reader;
GRANT SELECT ON "Mixed Case Schema"."Order", products, books, authors, v_books, mv_author_stats TO fx_reader;
GRANT SELECT (id, name), UPDATE (email) ON customers TO fx_reader;
GRANT SELECT, INSERT, UPDATE ON counters TO fx_reader;
GRANT USAGE ON SEQUENCE counters_id_seq TO fx_reader;
REVOKE EXECUTE ON FUNCTION public.secret_sum(int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.secret_sum(int, int) TO fx_reader;
REVOKE ALL ON TABLE dupes FROM fx_owner;            -- owner revoked its own rights: ACL differs from default
ALTER DEFAULT PRIVILEGES FOR ROLE fx_owner IN SCHEMA public GRANT SELECT ON TABLES TO fx_reader;
-- created after the default privileges, so it carries fx_reader=r/fx_owner without an explicit GRANT
CREATE TABLE late_table (id int PRIMARY KEY, note text);
INSERT INTO late_table VALUES (1, 'created after ALTER DEFAULT PRIVILEGES');

-- == Large objects with fixed OIDs: empty, ~100 bytes, ~300 kB; owned by fx_owner ==
SELECT lo_from_bytea(900001, ''::bytea);
SELECT lo_from_bytea(900002, convert_to(repeat('large object 2 ', 6) || 'ünï 😀', 'UTF8'));
SELECT lo_from_bytea(900003, decode(repeat('0123456789abcdef00', 34134), 'hex'));
GRANT SELECT ON LARGE OBJECT 900002 TO fx_reader;
COMMENT ON LARGE OBJECT 900003 IS 'Large object of ~300 kB';

-- == Database-level settings (also per-role-in-database), comment and CONNECT grant (database name not known in advance) ==
RESET ROLE;
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '12MB');
  EXECUTE format('ALTER DATABASE %I SET search_path = %s', current_database(), '"$user", public');
  EXECUTE format('ALTER ROLE fx_reader IN DATABASE %I SET work_mem = %L', current_database(), '8MB');
  EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), 'pghaul rich fixture: ünïcødé ok');
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO fx_reader', current_database());
END $$;

ANALYZE;
