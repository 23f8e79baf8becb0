-- Transfers: who may receive what, on which legal basis (the seed's II-5, 別添2; DOMAIN.md
-- "Transfers"), and the hash-chained log of every transfer published (seed III-5).

-- Destinations, as data: a new one needs rows, not code.
CREATE TABLE transfer_destinations (
    destination  text PRIMARY KEY,
    name         text NOT NULL,
    topic        text NOT NULL UNIQUE,
    legal_basis  text NOT NULL,
    active_from  date NOT NULL,
    active_to    date
);
INSERT INTO transfer_destinations VALUES
    ('koiki', '埼玉県後期高齢者医療広域連合', 'transfer.koiki.v1',
     '高齢者の医療の確保に関する法律 第48条, 第54条第1項・第10項, 第138条', '2008-04-01', NULL),
    ('welfare-livelihood', '生活福祉1課・2課', 'transfer.welfare-livelihood.v1',
     '番号法 第9条第2項に基づく川口市条例', '2016-01-01', NULL),
    ('disability-welfare', '障害福祉課', 'transfer.disability-welfare.v1',
     '番号法 第9条第2項に基づく川口市条例', '2016-01-01', NULL),
    ('child-development', '子ども育成課', 'transfer.child-development.v1',
     '番号法 第9条第2項に基づく川口市条例', '2016-01-01', NULL),
    ('municipal-tax', '市民税課', 'transfer.municipal-tax.v1',
     '番号法 別表第一 16 (地方税法) [assumed: the seed names only the basis of 移転先3]', '2016-01-01', NULL);

-- Per destination and event type: the exact fields it may receive (dot paths; `[]` for each
-- element of a list), whether 個人番号 may be among them, and whether a statute requires the
-- transfer (a recorded 利用停止 cannot stop those).
CREATE TABLE transfer_rules (
    destination         text    NOT NULL REFERENCES transfer_destinations (destination),
    event_type          text    NOT NULL,
    fields              text[]  NOT NULL,
    my_number_allowed   boolean NOT NULL,
    required_by_statute boolean NOT NULL,
    PRIMARY KEY (destination, event_type)
);
INSERT INTO transfer_rules VALUES
    ('koiki', 'koiki.qualification-acquired', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, true),
    ('koiki', 'koiki.qualification-lost', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, true),
    ('koiki', 'koiki.qualification-changed', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, true),
    ('koiki', 'koiki.resident-record', ARRAY['householdNo', 'asOf', 'members[].atenaNo', 'members[].myNumber', 'members[].nameKanji', 'members[].nameKana', 'members[].sex', 'members[].birthDate', 'members[].relationshipToHead', 'members[].residentStatus', 'members[].address.postalCode', 'members[].address.cityCode', 'members[].address.prefecture', 'members[].address.line', 'members[].address.katagaki', 'members[].insured'], true, true),
    ('koiki', 'koiki.nonresident-record', ARRAY['registeredOn', 'person.atenaNo', 'person.myNumber', 'person.nameKanji', 'person.nameKana', 'person.sex', 'person.birthDate', 'person.relationshipToHead', 'person.residentStatus', 'person.address.postalCode', 'person.address.cityCode', 'person.address.prefecture', 'person.address.line', 'person.address.katagaki', 'person.insured'], true, true),
    ('koiki', 'koiki.age-75-upcoming', ARRAY['businessDate', 'month', 'people[].atenaNo', 'people[].birthDate', 'people[].reachesOn'], false, true),
    ('koiki', 'koiki.certificate-issued', ARRAY['atenaNo', 'insuredNumber', 'validFrom'], false, true),
    ('koiki', 'application.high-cost-medical', ARRAY['atenaNo', 'receivedDate', 'applicationNo', 'bankAccountRef'], false, true),
    ('koiki', 'application.funeral-expenses', ARRAY['atenaNo', 'receivedDate', 'applicationNo', 'deceasedAtenaNo', 'funeralDate', 'bankAccountRef'], false, true),
    ('koiki', 'application.former-dependent', ARRAY['atenaNo', 'receivedDate', 'applicationNo', 'insurerName', 'dependentUntil'], false, true),
    ('koiki', 'koiki.income-record', ARRAY['atenaNo', 'incomeYear', 'declared', 'totalIncome', 'totalIncomeForAssessment', 'publicPensionIncome', 'salaryIncome', 'otherIncome', 'taxableIncome', 'residentTaxExempt'], false, true),
    ('koiki', 'koiki.assessment', ARRAY['atenaNo', 'insuredNumber', 'fiscalYear', 'historyNo', 'decidedOn', 'reason', 'formerDependent', 'provisional', 'figures.reduction', 'figures.incomeBase', 'figures.perCapita', 'figures.perCapitaReduction', 'figures.incomeShare', 'figures.calculated', 'figures.capExcess', 'figures.annual', 'figures.months', 'figures.monthlyReduction', 'figures.exemption', 'figures.premium', 'before.reduction', 'before.incomeBase', 'before.perCapita', 'before.perCapitaReduction', 'before.incomeShare', 'before.calculated', 'before.capExcess', 'before.annual', 'before.months', 'before.monthlyReduction', 'before.exemption', 'before.premium'], false, true),
    ('koiki', 'koiki.installments', ARRAY['atenaNo', 'fiscalYear', 'revision', 'decidedOn', 'installments[].no', 'installments[].dueDate', 'installments[].amount', 'installments[].method'], false, true),
    ('koiki', 'koiki.receipt', ARRAY['atenaNo', 'fiscalYear', 'installmentNo', 'method', 'kind', 'dueDate', 'amount', 'balance', 'onDate', 'event'], false, true),
    ('koiki', 'koiki.delinquency', ARRAY['atenaNo', 'fiscalYear', 'installmentNo', 'method', 'kind', 'dueDate', 'amount', 'balance', 'onDate', 'event'], false, true),
    ('welfare-livelihood', 'qualification.acquired', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('welfare-livelihood', 'qualification.lost', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('welfare-livelihood', 'qualification.changed', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('welfare-livelihood', 'qualification.current', ARRAY['atenaNo', 'insuredNumber', 'program', 'asOf', 'periods[].acquiredOn', 'periods[].acquisitionReason', 'periods[].lostOn', 'periods[].lossReason'], false, false),
    ('welfare-livelihood', 'premium.changed', ARRAY['atenaNo', 'fiscalYear', 'premium', 'months'], false, false),
    ('disability-welfare', 'qualification.acquired', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('disability-welfare', 'qualification.lost', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('disability-welfare', 'qualification.changed', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('disability-welfare', 'qualification.current', ARRAY['atenaNo', 'insuredNumber', 'program', 'asOf', 'periods[].acquiredOn', 'periods[].acquisitionReason', 'periods[].lostOn', 'periods[].lossReason'], false, false),
    ('disability-welfare', 'burden-ratio.changed', ARRAY['atenaNo', 'effectiveFrom', 'ratio'], false, false),
    ('child-development', 'qualification.acquired', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('child-development', 'qualification.lost', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('child-development', 'qualification.changed', ARRAY['atenaNo', 'insuredNumber', 'period.acquiredOn', 'period.acquisitionReason', 'period.lostOn', 'period.lossReason', 'previous.acquiredOn', 'previous.acquisitionReason', 'previous.lostOn', 'previous.lossReason', 'asOf'], false, false),
    ('child-development', 'qualification.current', ARRAY['atenaNo', 'insuredNumber', 'program', 'asOf', 'periods[].acquiredOn', 'periods[].acquisitionReason', 'periods[].lostOn', 'periods[].lossReason'], false, false),
    ('child-development', 'burden-ratio.changed', ARRAY['atenaNo', 'effectiveFrom', 'ratio'], false, false),
    ('municipal-tax', 'municipal-tax.premiums-paid', ARRAY['atenaNo', 'calendarYear', 'amount'], false, true);

-- One row per published transfer, hash-chained: each row stores the previous row's hash and
-- its own, over a canonical text of its content. Append-only for everyone but the owner.
CREATE TABLE audit_log (
    seq            bigint      PRIMARY KEY,
    destination    text        NOT NULL,
    event_id       text        NOT NULL,
    event_type     text        NOT NULL,
    atena_no       text,
    fields         text[]      NOT NULL,
    legal_basis    text        NOT NULL,
    published_at   timestamptz NOT NULL,
    relay_instance text        NOT NULL,
    prev_hash      text,
    hash           text        NOT NULL
);
CREATE INDEX audit_log_destination ON audit_log (destination, published_at);
CREATE INDEX audit_log_person ON audit_log (atena_no);

-- The canonical text a row's hash covers.
CREATE FUNCTION audit_content(a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', a.seq, a.destination, a.event_id, a.event_type, coalesce(a.atena_no, ''),
                     array_to_string(a.fields, ','), a.legal_basis,
                     to_char(a.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), a.relay_instance)
$$;

CREATE FUNCTION audit_hash(prev text, a audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(prev, '') || '|' || audit_content(a), 'UTF8')), 'hex')
$$;

-- Appends rows in order under one lock, so concurrent relays extend one chain.
CREATE FUNCTION audit_append(destinations text[], event_ids text[], event_types text[], atena_nos text[],
                             fields_json jsonb[], bases text[], instance text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    prev text;
    next_seq bigint;
    rec audit_log;
BEGIN
    PERFORM pg_advisory_xact_lock(1802465129 + 3, 0);
    SELECT hash, seq INTO prev, next_seq FROM audit_log ORDER BY seq DESC LIMIT 1;
    next_seq := coalesce(next_seq, 0);
    FOR i IN 1 .. coalesce(array_length(event_ids, 1), 0) LOOP
        next_seq := next_seq + 1;
        rec := ROW(next_seq, destinations[i], event_ids[i], event_types[i], atena_nos[i],
                   ARRAY(SELECT jsonb_array_elements_text(fields_json[i])), bases[i],
                   date_trunc('milliseconds', clock_timestamp()), instance, prev, '')::audit_log;
        rec.hash := audit_hash(prev, rec);
        INSERT INTO audit_log VALUES (rec.*);
        prev := rec.hash;
    END LOOP;
END $$;

-- Nobody but the table's owner may change or remove an audit row.
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> (SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log' AND schemaname = current_schema()) THEN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
