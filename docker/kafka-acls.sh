#!/usr/bin/env bash
# Example ACLs for a production cluster with SASL/SCRAM over TLS and
# `allow.everyone.if.no.acl.found=false`: each principal gets exactly its topics, so a
# department can read its own transfer topic and nothing else (seed III-5).
# Usage: KAFKA_BIN=/opt/kafka/bin BOOTSTRAP=kafka:9093 ADMIN_CONFIG=admin.properties ./kafka-acls.sh
# (the topics themselves: `koki topics create`; `koki topics list` prints them)
set -euo pipefail
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
BOOTSTRAP=${BOOTSTRAP:?the admin listener, e.g. kafka:9093}
ADMIN_CONFIG=${ADMIN_CONFIG:?a client properties file with the SASL and TLS settings of the admin}

acl() { "$KAFKA_BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN_CONFIG" --add "$@"; }

# Upstream publishers: each writes only its own inbound topic.
acl --allow-principal User:juki      --operation Write --operation Describe --topic resident.changes.v1
acl --allow-principal User:welfare   --operation Write --operation Describe --topic welfare.public-assistance.v1
acl --allow-principal User:counter   --operation Write --operation Describe --topic counter.applications.v1
acl --allow-principal User:counter   --operation Write --operation Describe --topic department.enrollments.v1
acl --allow-principal User:tax       --operation Write --operation Describe --topic tax.income.v1
acl --allow-principal User:pension   --operation Write --operation Describe --topic pension.deduction-targets.v1
acl --allow-principal User:shuno     --operation Write --operation Describe --topic collection.payments.v1
acl --allow-principal User:koiki     --operation Write --operation Describe --topic koiki.decisions.v1
acl --allow-principal User:scheduler --operation Write --operation Describe --topic clock.business-day.v1
# The scheduler (koki clock) also publishes the audit logs' heads; the 情報システム管理者 reads them.
acl --allow-principal User:scheduler --operation Write --operation Describe --topic koki.audit-checkpoints.v1
acl --allow-principal User:koki-operator --operation Write --operation Describe --topic koki.audit-checkpoints.v1
acl --allow-principal User:isms-admin --operation Read --operation Describe --topic koki.audit-checkpoints.v1
acl --allow-principal User:isms-admin --operation Read --resource-pattern-type prefixed --group koki-audit-verify

# koki's workers: read their inbound topics in their own group; dead letters and koki's own
# topics are written by the relay only (workers write to the database outbox, not to Kafka).
for t in resident.changes.v1 welfare.public-assistance.v1 counter.applications.v1 department.enrollments.v1 koiki.decisions.v1 \
         clock.business-day.v1; do
    acl --allow-principal User:koki-resident-worker --operation Read --operation Describe --topic "$t"
done
acl --allow-principal User:koki-resident-worker --operation Read --group koki-resident-worker
for t in tax.income.v1 pension.deduction-targets.v1 counter.applications.v1 koki.resident-updates.v1 koiki.decisions.v1 \
         clock.business-day.v1; do
    acl --allow-principal User:koki-tax-worker --operation Read --operation Describe --topic "$t"
done
acl --allow-principal User:koki-tax-worker --operation Read --group koki-tax-worker
for t in collection.payments.v1 clock.business-day.v1; do
    acl --allow-principal User:koki-payment-worker --operation Read --operation Describe --topic "$t"
done
acl --allow-principal User:koki-payment-worker --operation Read --group koki-payment-worker

# The relay: the only writer of transfer topics, koki's own topics and dead letters (idempotent).
acl --allow-principal User:koki-relay --operation Write --operation Describe --resource-pattern-type prefixed --topic transfer.
# koki's own topics by name (not the prefix: the audit checkpoints are the scheduler's and the operators').
acl --allow-principal User:koki-relay --operation Write --operation Describe --topic koki.resident-updates.v1
acl --allow-principal User:koki-relay --operation Write --operation Describe --topic koki.notices.v1
acl --allow-principal User:koki-relay --operation IdempotentWrite --cluster
# (Kafka matches prefixes from the start of a name: dead-letter topics end in .dlq, so list them.)
for t in resident.changes.v1 welfare.public-assistance.v1 counter.applications.v1 tax.income.v1 pension.deduction-targets.v1 \
         collection.payments.v1 department.enrollments.v1 koiki.decisions.v1 clock.business-day.v1 koki.resident-updates.v1; do
    acl --allow-principal User:koki-relay --operation Write --operation Describe --topic "$t.dlq"
done

# Operators: `koki dlq replay` re-publishes a dead letter to its original (upstream) topic with
# this principal's own credentials (KOKI_KAFKA_SASL_* of the operator's shell); the relay may
# not write upstream topics. Idempotent writes need the cluster permission.
for t in resident.changes.v1 welfare.public-assistance.v1 counter.applications.v1 department.enrollments.v1 tax.income.v1 \
         pension.deduction-targets.v1 collection.payments.v1 koiki.decisions.v1 clock.business-day.v1 koki.resident-updates.v1; do
    acl --allow-principal User:koki-operator --operation Write --operation Describe --topic "$t"
done
acl --allow-principal User:koki-operator --operation IdempotentWrite --cluster

# Destinations: each reads its own transfer topic, in groups named after itself.
declare -A destination=(
    [koiki]=transfer.koiki.v1
    [dept-welfare-livelihood]=transfer.welfare-livelihood.v1
    [dept-disability-welfare]=transfer.disability-welfare.v1
    [dept-child-development]=transfer.child-development.v1
    [dept-municipal-tax]=transfer.municipal-tax.v1
    [kokuhoren]=transfer.kokuhoren.v1
    [print-contractor]=koki.notices.v1
)
for principal in "${!destination[@]}"; do
    acl --allow-principal "User:$principal" --operation Read --operation Describe --topic "${destination[$principal]}"
    acl --allow-principal "User:$principal" --operation Read --resource-pattern-type prefixed --group "$principal"
done
