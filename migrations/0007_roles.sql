-- Least privilege: one database role per executable, with only the grants it needs (seed
-- III-3). Executables set their role at connection start (KOKI_DB_ROLE overrides); the login
-- user must be a member. Roles are cluster-wide, so creating them tolerates an existing one.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['koki_resident', 'koki_tax', 'koki_payment', 'koki_relay', 'koki_admin'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END LOOP;
END $$;

-- Every worker: the runtime's bookkeeping (no reading of the outbox, no changing dead letters).
GRANT SELECT, INSERT, UPDATE ON consumer_offsets TO koki_resident, koki_tax, koki_payment;
GRANT SELECT, INSERT ON inbox TO koki_resident, koki_tax, koki_payment;
GRANT INSERT ON outbox, dead_letters TO koki_resident, koki_tax, koki_payment;
GRANT USAGE ON SEQUENCE outbox_id_seq, dead_letters_id_seq TO koki_resident, koki_tax, koki_payment;
GRANT SELECT, INSERT, UPDATE ON business_calendar TO koki_resident, koki_tax, koki_payment;

-- koki-resident-worker: 宛名, 世帯, 資格 and their notices.
GRANT SELECT, INSERT, UPDATE ON residents, households TO koki_resident;
GRANT SELECT, INSERT ON resident_history, public_assistance_notices, disability_notices, special_address_notices,
    former_dependents, department_enrollments, forwarded_applications, qualification_history, qualification_certificates
    TO koki_resident;
GRANT SELECT, INSERT, DELETE ON household_memberships, qualification_periods TO koki_resident;
GRANT USAGE ON SEQUENCE public_assistance_notices_seq_seq, disability_notices_seq_seq, special_address_notices_seq_seq,
    former_dependents_seq_seq, department_enrollments_seq_seq TO koki_resident;

-- koki-tax-worker: reads 宛名・世帯・資格, writes 所得・賦課・期割・負担割合; never 収納.
GRANT SELECT ON residents, household_memberships, qualification_periods, department_enrollments, public_assistance_notices,
    disability_notices, special_address_notices, holidays, premium_rates, premium_year_settings, ordinary_schedule TO koki_tax;
GRANT SELECT, INSERT ON former_dependents, incomes, pension_deduction_targets, premium_exemptions, assessment_history,
    burden_ratios, assessment_runs, income_transfers TO koki_tax;
GRANT SELECT, INSERT, UPDATE ON assessments, installment_plans TO koki_tax;
GRANT SELECT, INSERT ON installments TO koki_tax;
GRANT USAGE ON SEQUENCE former_dependents_seq_seq, pension_deduction_targets_seq_seq, premium_exemptions_seq_seq TO koki_tax;

-- koki-payment-worker: reads the 期割 plans and who exists, writes 収納; never 賦課.
GRANT SELECT ON residents, installment_plans, installments, late_fee_rates, collection_settings, collection_markers
    TO koki_payment;
GRANT SELECT, INSERT ON payments, receivables, ledger, refunds TO koki_payment;
GRANT SELECT, INSERT, UPDATE ON charge_sync TO koki_payment;
GRANT USAGE ON SEQUENCE receivables_id_seq, ledger_id_seq, refunds_id_seq TO koki_payment;

-- koki-relay: the outbox and the transfer log only; it cannot read the records it does not publish.
GRANT SELECT, UPDATE, DELETE ON outbox TO koki_relay;
GRANT SELECT ON transfer_destinations, transfer_rules TO koki_relay;
GRANT SELECT, INSERT ON audit_log TO koki_relay;

-- koki (the operators' command): reads everything; changes only dead letters (replay/discard),
-- the outbox (replay), and the policy and settings tables; the audit log stays append-only.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO koki_admin;
GRANT UPDATE ON dead_letters TO koki_admin;
GRANT INSERT ON outbox TO koki_admin;
GRANT USAGE ON SEQUENCE outbox_id_seq TO koki_admin;
GRANT INSERT, UPDATE, DELETE ON transfer_destinations, transfer_rules, collection_settings, collection_markers, late_fee_rates,
    premium_rates, premium_year_settings, ordinary_schedule, holidays TO koki_admin;
GRANT USAGE ON SEQUENCE collection_markers_id_seq TO koki_admin;
