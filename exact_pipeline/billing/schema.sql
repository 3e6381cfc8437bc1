-- The billing database (README.md, "Billing database contract"): what the pipeline reads.
--
-- Amounts are integers in the currency's minor unit; credit notes store positive amounts and
-- `type` gives the direction. Safe to run again: every statement is IF NOT EXISTS / OR REPLACE,
-- and the constraint triggers (which cannot be replaced) are dropped and recreated.

CREATE TABLE IF NOT EXISTS invoicing_entities (
    id text PRIMARY KEY,
    name text NOT NULL,
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    timezone text NOT NULL CHECK (timezone <> '')
);

CREATE TABLE IF NOT EXISTS tax_rates (
    id text PRIMARY KEY,
    invoicing_entity_id text NOT NULL REFERENCES invoicing_entities (id),
    name text NOT NULL,
    rate numeric NOT NULL CHECK (rate >= 0 AND rate <= 100)  -- percent, e.g. 21
);

CREATE TABLE IF NOT EXISTS customers (
    id text PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    email text,
    vat_number text,
    address_line1 text,
    address_line2 text,
    zip text,
    city text,
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS products (
    id text PRIMARY KEY,
    name text NOT NULL
);

-- Invoices and credit notes. Drafts carry a provisional number and issue date too; they never
-- sync. A credit note corrects exactly one invoice, an invoice corrects nothing.
CREATE TABLE IF NOT EXISTS invoices (
    id text PRIMARY KEY,
    number text NOT NULL UNIQUE,
    type text NOT NULL CHECK (type IN ('invoice', 'credit_note')),
    status text NOT NULL
        CHECK (status IN ('draft', 'to_pay', 'partially_paid', 'paid', 'voided')),
    customer_id text NOT NULL REFERENCES customers (id),
    invoicing_entity_id text NOT NULL REFERENCES invoicing_entities (id),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    issued_at timestamptz NOT NULL,
    due_at timestamptz,
    amount_excluding_tax bigint NOT NULL CHECK (amount_excluding_tax >= 0),
    tax_amount bigint NOT NULL CHECK (tax_amount >= 0),
    total_amount bigint NOT NULL CHECK (total_amount >= 0),
    original_invoice_id text REFERENCES invoices (id),
    purchase_order text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_total_is_sum CHECK (total_amount = amount_excluding_tax + tax_amount),
    CONSTRAINT invoices_credit_note_has_original
        CHECK ((type = 'credit_note') = (original_invoice_id IS NOT NULL)),
    CONSTRAINT invoices_not_own_original CHECK (original_invoice_id <> id),
    CONSTRAINT invoices_due_after_issue CHECK (due_at >= issued_at)
);

CREATE TABLE IF NOT EXISTS invoice_lines (
    id text PRIMARY KEY,
    invoice_id text NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position int NOT NULL CHECK (position >= 1),
    product_id text REFERENCES products (id),  -- NULL: a free line, e.g. a manual adjustment
    description text NOT NULL,
    quantity numeric NOT NULL,
    unit_amount numeric NOT NULL,  -- minor units, excluding tax; may hold fractions of a cent
    amount_excluding_tax bigint NOT NULL,  -- may be negative (a discount line)
    tax_rate_id text NOT NULL REFERENCES tax_rates (id),
    tax_amount bigint NOT NULL,
    CONSTRAINT invoice_lines_position_unique UNIQUE (invoice_id, position)
);
-- The service period a line bills (optional), both days included: e.g. a monthly subscription's
-- month, sent to Exact as the line's From/To (StartTime/EndTime) so it can spread the revenue.
-- Added with ADD COLUMN so a database made before them gains them; the pipeline also reads a
-- billing database without them (billing/read.py).
ALTER TABLE invoice_lines
    ADD COLUMN IF NOT EXISTS period_start date,
    ADD COLUMN IF NOT EXISTS period_end date
        CONSTRAINT invoice_lines_period_in_order CHECK (period_end >= period_start);

CREATE TABLE IF NOT EXISTS invoice_pdfs (
    invoice_id text PRIMARY KEY REFERENCES invoices (id) ON DELETE CASCADE,
    file_name text NOT NULL CHECK (file_name <> ''),
    content bytea NOT NULL CHECK (substring(content FROM 1 FOR 5) = '\x255044462d'::bytea)  -- %PDF-
);
-- Stored without Postgres's own compression: PDFs usually compress their streams already, and
-- compressing on write costs more time than the space it saves.
ALTER TABLE invoice_pdfs ALTER COLUMN content SET STORAGE EXTERNAL;

-- Money received for an invoice, or refunded for a credit note. A payment written back from
-- Exact carries Exact's id, so the same payment can never be recorded twice.
CREATE TABLE IF NOT EXISTS payments (
    id text PRIMARY KEY,
    invoice_id text NOT NULL REFERENCES invoices (id),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    paid_at timestamptz NOT NULL,
    method text NOT NULL,
    source text NOT NULL CHECK (source IN ('billing', 'exact_online')),
    external_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_exact_has_external_id
        CHECK (source = 'billing' OR external_id IS NOT NULL)
);

CREATE INDEX IF NOT EXISTS invoices_issued_at ON invoices (issued_at);
CREATE INDEX IF NOT EXISTS invoices_updated_at_id ON invoices (updated_at, id);
CREATE INDEX IF NOT EXISTS invoices_customer_id ON invoices (customer_id);
CREATE INDEX IF NOT EXISTS invoices_original_invoice_id ON invoices (original_invoice_id)
    WHERE original_invoice_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS payments_invoice_id ON payments (invoice_id);
CREATE INDEX IF NOT EXISTS payments_paid_at ON payments (paid_at);
CREATE INDEX IF NOT EXISTS payments_created_at ON payments (created_at);
CREATE INDEX IF NOT EXISTS customers_updated_at ON customers (updated_at);
-- invoice_lines (invoice_id, position) is indexed by its UNIQUE constraint.

-- Rules that span rows, for the given documents: the lines' sums equal the totals, every line's
-- tax rate belongs to the document's invoicing entity, and a credit note's original is an
-- invoice of the same entity and currency. Drafts are exempt: their lines are still being
-- edited, and the rules are checked when a draft is finalized (its status changes).
-- Returns one row per broken rule, so a bulk load can check all its documents in one query.
CREATE OR REPLACE FUNCTION billing_document_violations(document_ids text[])
RETURNS TABLE (document_id text, number text, problem text)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.number, format(
        'lines sum to %s excluding tax and %s tax, the document says %s and %s',
        coalesce(s.amount, 0), coalesce(s.tax, 0), d.amount_excluding_tax, d.tax_amount)
    FROM invoices d
    LEFT JOIN (
        SELECT invoice_id, sum(amount_excluding_tax) AS amount, sum(tax_amount) AS tax
        FROM invoice_lines WHERE invoice_id = ANY (document_ids) GROUP BY invoice_id
    ) s ON s.invoice_id = d.id
    WHERE d.id = ANY (document_ids) AND d.status <> 'draft'
      AND (coalesce(s.amount, 0), coalesce(s.tax, 0)) <> (d.amount_excluding_tax, d.tax_amount)
    UNION ALL
    SELECT d.id, d.number, format('line %s uses tax rate %s of entity %s, the document is of %s',
        l.position, t.id, t.invoicing_entity_id, d.invoicing_entity_id)
    FROM invoices d
    JOIN invoice_lines l ON l.invoice_id = d.id
    JOIN tax_rates t ON t.id = l.tax_rate_id
    WHERE d.id = ANY (document_ids) AND d.status <> 'draft'
      AND t.invoicing_entity_id <> d.invoicing_entity_id
    UNION ALL
    SELECT d.id, d.number, format('credits %s (a %s of entity %s in %s), must be an invoice of '
        'entity %s in %s', o.number, o.type, o.invoicing_entity_id, o.currency,
        d.invoicing_entity_id, d.currency)
    FROM invoices d
    JOIN invoices o ON o.id = d.original_invoice_id
    WHERE d.id = ANY (document_ids) AND d.status <> 'draft'
      AND (o.type, o.invoicing_entity_id, o.currency)
          <> ('invoice', d.invoicing_entity_id, d.currency)
$$;

CREATE OR REPLACE FUNCTION billing_check_documents() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids text[];
    violation record;
BEGIN
    IF TG_TABLE_NAME = 'invoices' THEN
        ids := ARRAY[NEW.id];
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.invoice_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.invoice_id];
    ELSE
        ids := ARRAY[OLD.invoice_id, NEW.invoice_id];
    END IF;
    SELECT * INTO violation FROM billing_document_violations(ids) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'document % (%): %', violation.number, violation.document_id,
            violation.problem USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

-- Deferred to commit, so a document and its lines can be written in one transaction.
DROP TRIGGER IF EXISTS invoices_check_document ON invoices;
CREATE CONSTRAINT TRIGGER invoices_check_document
    AFTER INSERT OR UPDATE ON invoices
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_check_documents();

DROP TRIGGER IF EXISTS invoice_lines_check_document ON invoice_lines;
CREATE CONSTRAINT TRIGGER invoice_lines_check_document
    AFTER INSERT OR UPDATE OR DELETE ON invoice_lines
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_check_documents();

-- A change that does not set updated_at itself still moves it forward, so the sensor's
-- high-water mark (updated_at, id) sees every change to a document or customer.
CREATE OR REPLACE FUNCTION billing_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER invoices_touch_updated_at
    BEFORE UPDATE ON invoices
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION billing_touch_updated_at();

CREATE OR REPLACE TRIGGER customers_touch_updated_at
    BEFORE UPDATE ON customers
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION billing_touch_updated_at();
