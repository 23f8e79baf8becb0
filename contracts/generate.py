#!/usr/bin/env python3
"""Writes contracts/schemas/*.json and contracts/asyncapi.yaml: koki's published contract.

The schemas are the source of truth subscribers and publishers read; this script only keeps
them consistent (shared pieces written once). Run it after changing a shape, commit both, and
the contract tests (RuntimeTests/ContractTests) hold the code to them.
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
S = "https://json-schema.org/draft/2020-12/schema"

def string(**kw): return {"type": "string", **kw}
def integer(**kw): return {"type": "integer", **kw}
def nullable(schema):
    out = {**schema, "type": [schema["type"], "null"]}
    if "enum" in out: out["enum"] = out["enum"] + [None]  # enum applies to every type: null must be listed
    return out
DATE = string(format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")
ATENA = string(pattern=r"^[0-9]{10}$", description="宛名番号 (the city's internal person id; never the 個人番号)")
MY_NUMBER = string(pattern=r"^[0-9]{12}$", description="個人番号 (12 digits with a check digit)")
YEN = integer(minimum=0, description="integer yen")
BOOL = {"type": "boolean"}

def obj(props, required=None, description=None):
    o = {"type": "object", "properties": props, "required": sorted(required if required is not None else props.keys()),
         "additionalProperties": False}
    if description: o["description"] = description
    return o

ADDRESS = obj({"postalCode": string(pattern=r"^[0-9]{7}$"), "cityCode": string(pattern=r"^[0-9]{6}$"),
               "prefecture": string(), "line": string(), "katagaki": nullable(string())},
              required=["postalCode", "cityCode", "prefecture", "line"])
PERSON = obj({
    "nameKanji": string(), "nameKana": string(), "sex": string(enum=["male", "female"]), "birthDate": DATE,
    "relationshipToHead": string(enum=["head", "spouse", "child", "parent", "other"]),
    "residentStatus": string(enum=["resident", "foreign-resident", "nonresident"]),
    "address": ADDRESS, "previousAddress": {"anyOf": [ADDRESS, {"type": "null"}]},
    # A move abroad has no city and no prefecture (EVENTS.md); startsOn: the day the new address starts.
    "nextAddress": {"anyOf": [{**ADDRESS, "properties": {**ADDRESS["properties"], "postalCode": nullable(string(pattern=r"^[0-9]{7}$")),
                                                          "cityCode": nullable(string(pattern=r"^[0-9]{6}$")),
                                                          "prefecture": nullable(string()), "startsOn": nullable(DATE)},
                               "required": ["line"]},
                              {"type": "null"}]},
    "deathDate": nullable(DATE)},
    required=["nameKanji", "nameKana", "sex", "birthDate", "relationshipToHead", "residentStatus", "address"])
RESIDENT_CHANGE = obj({"atenaNo": ATENA, "myNumber": nullable(MY_NUMBER), "householdNo": string(pattern=r"^[0-9]{10}$"),
                       "change": obj({"effectiveDate": DATE, "notifiedDate": nullable(DATE)}, required=["effectiveDate"]),
                       "person": PERSON},
                      required=["atenaNo", "householdNo", "change", "person"])
APPLICATION_BASE = {"atenaNo": ATENA, "receivedDate": DATE, "applicationNo": string(minLength=1)}

def application(extra, required_extra=None):
    props = {**APPLICATION_BASE, **extra}
    return obj(props, required=list(APPLICATION_BASE) + (required_extra if required_extra is not None else list(extra)))

INBOUND = {
    "resident.changes.v1": {t: RESIDENT_CHANGE for t in [
        "resident.moved-in", "resident.moved-out", "resident.moved-within", "resident.died", "resident.born",
        "resident.household-changed", "resident.name-changed", "resident.corrected", "resident.nonresident-registered",
        "resident.removed"]},
    "welfare.public-assistance.v1": {t: obj({"atenaNo": ATENA, "householdNo": nullable(string(pattern=r"^[0-9]{10}$")),
                                             "caseNo": string(minLength=1), "effectiveDate": DATE},
                                            required=["atenaNo", "caseNo", "effectiveDate"]) for t in [
        "welfare.assistance-started", "welfare.assistance-ended", "welfare.assistance-suspended", "welfare.assistance-resumed"]},
    "counter.applications.v1": {
        "application.disability-certification": application({"certifiedDate": DATE, "grade": string(minLength=1)}),
        "application.disability-withdrawal": application({"effectiveDate": DATE}),
        "application.special-address-started": application({"effectiveDate": DATE, "facilityName": string(), "previousInsurer": string()}),
        "application.special-address-ended": application({"effectiveDate": DATE, "facilityName": string(), "previousInsurer": string()}),
        "application.former-dependent": application({"insurerName": string(), "dependentUntil": DATE}),
        "application.premium-reduction": application({"fiscalYear": integer(minimum=2008), "reason": string(),
                                                      "reductionPercent": integer(minimum=0, maximum=100), "decidedDate": DATE}),
        "application.high-cost-medical": application({"bankAccountRef": string()}),
        "application.funeral-expenses": application({"deceasedAtenaNo": ATENA, "funeralDate": DATE, "bankAccountRef": string()}),
        "application.payment-method-change": application({"bankAccountRef": string(), "effectiveDate": DATE}),
    },
    "tax.income.v1": {t: obj({"atenaNo": ATENA, "incomeYear": integer(minimum=2000), "declared": BOOL, "totalIncome": integer(),
                              "totalIncomeForAssessment": integer(), "publicPensionIncome": YEN, "salaryIncome": YEN,
                              "otherIncome": integer(), "taxableIncome": YEN, "residentTaxExempt": BOOL})
                      for t in ["tax.income-assessed", "tax.income-corrected"]},
    "pension.deduction-targets.v1": {"pension.deduction-target": obj({
        "atenaNo": ATENA, "fiscalYear": integer(minimum=2008), "pensionAnnualAmount": YEN, "pensionPerPayment": YEN,
        "longTermCarePremiumDeducted": BOOL, "longTermCarePremiumPerPayment": YEN}),
        "pension.request-result": obj({
            "atenaNo": ATENA, "fiscalYear": integer(minimum=2008),
            "requestId": string(minLength=1, maxLength=64, description="the requestId of the kokuhoren.pension-request answered"),
            "accepted": BOOL, "reason": nullable(string(maxLength=64, description="why refused, e.g. pension-stopped, amount-over-half")),
            "amounts": nullable({"type": "array", "maxItems": 12, "items": obj({"month": integer(minimum=1, maximum=12), "amount": YEN})})},
            required=["atenaNo", "fiscalYear", "requestId", "accepted"])},
    "collection.payments.v1": {t: obj({
        "paymentId": string(minLength=1), "atenaNo": ATENA, "fiscalYear": nullable(integer(minimum=2008)),
        "installmentNo": nullable(integer(minimum=1)), "amount": YEN, "paidOn": DATE, "creditedOn": nullable(DATE),
        "channel": string(enum=["bank", "convenience-store", "account-transfer", "pension", "counter"])},
        required=["paymentId", "atenaNo", "amount", "paidOn", "channel"])
        for t in ["payment.received", "payment.transfer-failed", "payment.pension-deducted", "payment.refund-paid",
                  "payment.cvs-preliminary"]},
    "department.enrollments.v1": {t: obj({
        "department": string(enum=["welfare-livelihood", "disability-welfare", "child-development"]), "atenaNo": ATENA,
        "program": string(), "effectiveDate": DATE}) for t in ["department.enrolled", "department.unenrolled"]},
    "clock.business-day.v1": {"clock.business-day": obj({"date": DATE})},
    "koiki.decisions.v1": {
        "koiki.qualification-decided": obj({
            "atenaNo": ATENA, "insuredNo": string(pattern=r"^[0-9]{8}$", description="被保険者番号 (the union's)"), "decidedOn": DATE,
            "periods": {"type": "array", "maxItems": 50, "items": obj({
                "acquiredOn": DATE,
                "acquisitionReason": string(enum=["age-75", "moved-in", "disability-certified", "assistance-ended", "special-address"]),
                "lostOn": nullable(DATE),
                "lossReason": nullable(string(enum=["died", "moved-out", "assistance-started", "disability-withdrawn", "other"]))},
                required=["acquiredOn", "acquisitionReason"])},
            "burdenRatio": {"type": "array", "maxItems": 50, "items": obj({"from": DATE, "ratio": integer(enum=[1, 2, 3])})}}),
        "koiki.assessment-decided": obj({
            "atenaNo": ATENA, "insuredNo": string(pattern=r"^[0-9]{8}$"), "fiscalYear": integer(minimum=1990, maximum=2200),
            "revision": integer(minimum=1), "decidedOn": DATE,
            "reason": string(enum=["honsantei", "correction", "acquisition", "loss", "reduction"]),
            "annualPremium": {**YEN, "maximum": 10000000, "description": "integer yen: what this city collects for the 年度"},
            "reduction": string(enum=["0", "20", "50", "70"]),
            "components": {"type": "array", "maxItems": 8, "items": obj({"name": string(minLength=1), "perCapita": YEN, "incomeShare": YEN})},
            "collectingMonths": {"type": "array", "maxItems": 12, "uniqueItems": True, "items": integer(minimum=1, maximum=12)}}),
    },
}

PERIOD = obj({"acquiredOn": DATE, "acquisitionReason": string(enum=["age-75", "moved-in", "disability-certified", "assistance-ended"]),
              "lostOn": nullable(DATE), "lossReason": nullable(string(enum=["moved-out", "died", "assistance-started", "disability-withdrawn"]))},
             required=["acquiredOn", "acquisitionReason"])
QUALIFICATION = obj({"atenaNo": ATENA, "insuredNumber": string(pattern=r"^[0-9]{8}$"), "period": {"anyOf": [PERIOD, {"type": "null"}]},
                     "previous": {"anyOf": [PERIOD, {"type": "null"}]}, "asOf": DATE}, required=["atenaNo", "asOf"])
SNAPSHOT = obj({"atenaNo": ATENA, "insuredNumber": nullable(string(pattern=r"^[0-9]{8}$")), "program": string(),
                "periods": {"type": "array", "items": PERIOD}, "asOf": DATE}, required=["atenaNo", "asOf"])
MEMBER = obj({"atenaNo": ATENA, "myNumber": nullable(MY_NUMBER), "nameKanji": string(), "nameKana": string(),
              "sex": string(enum=["male", "female"]), "birthDate": DATE, "relationshipToHead": string(),
              "residentStatus": string(enum=["resident", "foreign-resident", "nonresident"]), "address": ADDRESS, "insured": BOOL},
             required=["atenaNo"])
FIGURES_PROPS = {"reduction": string(enum=["70", "50", "20", "none"]), "incomeBase": integer(), "perCapita": YEN,
                 "perCapitaReduction": YEN, "incomeShare": YEN, "calculated": YEN, "capExcess": YEN, "annual": YEN,
                 "months": integer(minimum=0, maximum=12), "monthlyReduction": YEN, "exemption": YEN, "premium": YEN}
FIGURES = obj(FIGURES_PROPS, required=[])
INSTALLMENT = obj({"no": integer(minimum=1), "dueDate": DATE, "amount": YEN, "method": string(enum=["ordinary", "pension"])})
COLLECTION = obj({"atenaNo": ATENA, "fiscalYear": integer(), "installmentNo": integer(), "method": string(enum=["ordinary", "pension"]),
                  "kind": string(enum=["premium", "late-fee", "dunning-fee"]), "dueDate": DATE, "amount": integer(), "balance": integer(),
                  "onDate": DATE, "event": string()}, required=["atenaNo"])
MONEY_NOTICE = obj({"atenaNo": ATENA, "amount": YEN, "decidedOn": DATE, "forHeirs": BOOL})
REFUND_NOTICE = obj({"atenaNo": ATENA, "amount": YEN, "decidedOn": DATE, "forHeirs": BOOL,
                     "interest": integer(minimum=0, description="還付加算金, integer yen, paid with the refund")})

def forwarded(inbound_type):
    return INBOUND["counter.applications.v1"][inbound_type]

OUTBOUND = {
    "koiki.qualification-acquired": QUALIFICATION, "koiki.qualification-lost": QUALIFICATION,
    "koiki.qualification-changed": QUALIFICATION,
    "qualification.acquired": QUALIFICATION, "qualification.lost": QUALIFICATION, "qualification.changed": QUALIFICATION,
    "qualification.current": SNAPSHOT,
    "koiki.resident-record": obj({"householdNo": string(pattern=r"^[0-9]{10}$"), "asOf": DATE,
                                  "members": {"type": "array", "items": MEMBER}}, required=["householdNo", "asOf", "members"]),
    "koiki.nonresident-record": obj({"registeredOn": DATE, "person": MEMBER}),
    "koiki.age-75-upcoming": obj({"businessDate": DATE, "month": string(pattern=r"^\d{4}-\d{2}$"),
                                  "people": {"type": "array", "items": obj({"atenaNo": ATENA, "birthDate": DATE, "reachesOn": DATE})}}),
    "koiki.certificate-issued": obj({"atenaNo": ATENA, "insuredNumber": string(pattern=r"^[0-9]{8}$"), "validFrom": DATE}),
    "application.high-cost-medical": forwarded("application.high-cost-medical"),
    "application.funeral-expenses": forwarded("application.funeral-expenses"),
    "application.former-dependent": forwarded("application.former-dependent"),
    "koiki.income-record": obj(INBOUND["tax.income.v1"]["tax.income-assessed"]["properties"], required=["atenaNo", "incomeYear"]),
    "koiki.assessment": obj({"atenaNo": ATENA, "insuredNumber": nullable(string(pattern=r"^[0-9]{8}$")), "fiscalYear": integer(),
                             "historyNo": integer(minimum=1), "decidedOn": DATE, "reason": string(), "formerDependent": BOOL,
                             "provisional": BOOL, "figures": FIGURES, "before": {"anyOf": [FIGURES, {"type": "null"}]}},
                            required=["atenaNo", "fiscalYear", "historyNo", "decidedOn"]),
    "koiki.installments": obj({"atenaNo": ATENA, "fiscalYear": integer(), "revision": integer(minimum=1), "decidedOn": DATE,
                               "installments": {"type": "array", "items": INSTALLMENT},
                               "provisional": {**BOOL, "description": "true while the plan bills koki's own figure (the union has not decided)"}}),
    "koiki.receipt": COLLECTION, "koiki.delinquency": COLLECTION,
    "premium.changed": obj({"atenaNo": ATENA, "fiscalYear": integer(), "premium": YEN, "months": integer(minimum=0, maximum=12)}),
    "burden-ratio.changed": obj({"atenaNo": ATENA, "effectiveFrom": DATE, "ratio": integer(enum=[10, 20, 30])}),
    "municipal-tax.premiums-paid": obj({"atenaNo": ATENA, "calendarYear": integer(), "amount": YEN}),
    "kokuhoren.pension-request": obj({
        "requestId": string(minLength=1, description="names no person; the answer (pension.request-result) quotes it"),
        "atenaNo": ATENA, "fiscalYear": integer(), "kind": string(enum=["request", "change", "stop"], description="依頼, 変更 or 中止"),
        "sentOn": DATE, "amounts": {"type": "array", "items": obj({"month": integer(minimum=1, maximum=12), "amount": YEN})},
        "reason": nullable(string(description="lost, premium-decreased, premium-changed, leveling, payment-method-change"))},
        required=["requestId", "atenaNo", "fiscalYear", "kind", "sentOn", "amounts"],
        description="特別徴収 依頼・変更・中止 to the 年金保険者 through 国保連 (the 経由機関)"),
}
INTERNAL = {
    "koki.resident-update": obj({"atenaNo": ATENA, "householdNo": nullable(string()), "previousHouseholdNo": nullable(string()),
                                 "effectiveDate": DATE, "asOf": DATE}, required=["atenaNo", "effectiveDate", "asOf"]),
    "notice.premium-decided": None, "notice.premium-changed": None,
    "notice.dunning": COLLECTION, "notice.reminder": COLLECTION,
    "notice.appropriation": MONEY_NOTICE, "notice.refund": REFUND_NOTICE, "notice.late-fee": MONEY_NOTICE,
    "notice.suspense": MONEY_NOTICE,
    "notice.reconciliation-summary": obj({
        "date": DATE, "openedToday": integer(minimum=0), "closedToday": integer(minimum=0),
        "open": {"type": "array", "items": obj({"kind": string(), "open": integer(minimum=0)})}},
        description="The office's daily 突合 summary, sent as the next business day begins: open discrepancies by kind, and how many opened and closed on `date` (counts only, no person; key `office`)"),
}
PREMIUM_NOTICE = obj({"atenaNo": ATENA, "insuredNumber": nullable(string()), "fiscalYear": integer(), "reason": string(),
                      "decidedOn": string(), "premium": YEN, "previousPremium": nullable(integer()), "months": integer(),
                      "reduction": string(), "installments": {"type": "array", "items": INSTALLMENT},
                      "provisional": {**BOOL, "description": "暫定: koki's own figure until the union decides"}},
                     required=["atenaNo", "fiscalYear", "premium", "provisional"])
INTERNAL["notice.premium-decided"] = PREMIUM_NOTICE
INTERNAL["notice.collection-method-changed"] = obj(
    {"atenaNo": ATENA, "insuredNumber": nullable(string()), "fiscalYear": integer(), "decidedOn": string(),
     "reason": string(enum=["refused", "partly-accepted", "payment-method-change"]),
     "installments": {"type": "array", "items": INSTALLMENT}},
    description="The 特別徴収 ended (or shrank) for the year; what is left is billed by 普通徴収 on these 期")
INTERNAL["notice.interim-collection"] = obj(
    {"atenaNo": ATENA, "insuredNumber": nullable(string()), "fiscalYear": integer(), "decidedOn": string(),
     "installments": {"type": "array", "items": INSTALLMENT},
     "stopped": {**BOOL, "description": "the deductions after decidedOn stopped (資格喪失 before the 本算定)"}},
    description="特別徴収（仮徴収）額決定通知書: the April, June and August pension deductions before the July 本算定")
INTERNAL["notice.premium-changed"] = PREMIUM_NOTICE
INTERNAL["koki.audit-checkpoint"] = obj(
    {"seq": integer(minimum=1), "hash": string(pattern="^[0-9a-f]{64}$"), "takenAt": string(format="date-time"),
     "accessID": integer(minimum=1), "accessHash": string(pattern="^[0-9a-f]{64}$"),
     "macFrom": integer(minimum=1, description="the first transfer-log row with a MAC (absent before the relay had a key)")},
    required=["seq", "hash", "takenAt"],
    description="The heads of the transfer log (seq, hash) and the access log (accessID, accessHash) when taken, and where "
                "the transfer log's MACs start (macFrom); `koki audit verify --checkpoint-topic` finds a chain rebuilt after "
                "any of them, or MACs removed (key `audit`, no person)")
INTERNAL_TOPIC = {"koki.resident-update": "koki.resident-updates.v1", "koki.audit-checkpoint": "koki.audit-checkpoints.v1"}

OUTBOUND_TOPICS = {
    "transfer.koiki.v1": ("埼玉県後期高齢者医療広域連合", [t for t in OUTBOUND if t.startswith("koiki.") or t.startswith("application.")]),
    "transfer.welfare-livelihood.v1": ("生活福祉1課・2課", ["qualification.acquired", "qualification.lost", "qualification.changed",
                                                         "qualification.current", "premium.changed"]),
    "transfer.disability-welfare.v1": ("障害福祉課", ["qualification.acquired", "qualification.lost", "qualification.changed",
                                                   "qualification.current", "burden-ratio.changed"]),
    "transfer.child-development.v1": ("子ども育成課", ["qualification.acquired", "qualification.lost", "qualification.changed",
                                                    "qualification.current", "burden-ratio.changed"]),
    "transfer.municipal-tax.v1": ("市民税課", ["municipal-tax.premiums-paid"]),
    "transfer.kokuhoren.v1": ("埼玉県国民健康保険団体連合会 (経由機関, for the 年金保険者)", ["kokuhoren.pension-request"]),
}

# The partitions of each topic (Topics.swift; ContractTests holds the two together), and which
# consumer groups read it.
PARTITIONS = {
    "resident.changes.v1": 6, "welfare.public-assistance.v1": 3, "counter.applications.v1": 3, "tax.income.v1": 6,
    "pension.deduction-targets.v1": 3, "collection.payments.v1": 6, "department.enrollments.v1": 3, "koiki.decisions.v1": 6,
    "clock.business-day.v1": 1, "transfer.koiki.v1": 6, "transfer.welfare-livelihood.v1": 3, "transfer.disability-welfare.v1": 3,
    "transfer.child-development.v1": 3, "transfer.municipal-tax.v1": 3, "transfer.kokuhoren.v1": 3,
    "koki.resident-updates.v1": 6, "koki.notices.v1": 3, "koki.audit-checkpoints.v1": 1,
}
GROUPS = {
    "resident.changes.v1": ["koki-resident-worker"], "welfare.public-assistance.v1": ["koki-resident-worker"],
    "counter.applications.v1": ["koki-resident-worker", "koki-tax-worker"], "tax.income.v1": ["koki-tax-worker"],
    "pension.deduction-targets.v1": ["koki-tax-worker"], "collection.payments.v1": ["koki-payment-worker"],
    "department.enrollments.v1": ["koki-resident-worker"], "koiki.decisions.v1": ["koki-resident-worker", "koki-tax-worker"],
    "clock.business-day.v1": ["koki-resident-worker", "koki-tax-worker", "koki-payment-worker"],
    "koki.resident-updates.v1": ["koki-tax-worker"],
}
# Messages whose key is not a person's 宛名番号.
KEY_CONST = {"clock.business-day": "clock", "koiki.age-75-upcoming": "age-75-upcoming",
             "notice.reconciliation-summary": "office", "koki.audit-checkpoint": "audit"}
DEAD_LETTER = obj({"topic": string(), "partition": integer(minimum=0), "offset": integer(minimum=0),
                   "consumerGroup": string(), "errorKind": string(), "reason": string(),
                   "ceId": string(), "ceType": string()},
                  required=["topic", "partition", "offset", "consumerGroup", "errorKind", "reason"],
                  description="A dead letter's reference on `<topic>.dlq`: where the event was and why it was not applied "
                              "(rule and field names, never values) — never its key, headers or body, which stay sealed in "
                              "koki's store (`koki dlq show --payload` is an audited read)")

def accepting(schema):
    """An inbound schema as upstream teams may rely on: koki may accept more (EVENTS.md: optional
    fields), so unknown properties are allowed at every level."""
    if isinstance(schema, dict):
        out = {k: accepting(v) for k, v in schema.items()}
        if out.get("additionalProperties") is False:
            out["additionalProperties"] = True
        return out
    if isinstance(schema, list):
        return [accepting(v) for v in schema]
    return schema

def write_schema(event_type, schema, direction, topic):
    key = f"`{KEY_CONST[event_type]}`" if event_type in KEY_CONST else "the person's 宛名番号"
    extra = (" koki accepts fields this schema does not name (it ignores them); it never requires more."
             if direction == "inbound" else
             " koki accepts fields this schema does not name (it ignores them); what it forwards carries only the fields"
             " its transfer rule allows, and consumers must ignore fields they do not know."
             if direction.startswith("inbound") else
             " Consumers must ignore fields they do not know: a minor version may add optional ones.")
    doc = {"$schema": S, "$id": f"https://koki.example/contracts/schemas/{event_type}.json",
           "title": event_type, "description": f"Body of `{event_type}` ({direction}, {topic}). CloudEvents binary mode: the "
           f"envelope is in the ce_* headers; the key is {key}.{extra}",
           **(accepting(schema) if direction.startswith("inbound") else schema)}
    with open(os.path.join(HERE, "schemas", f"{event_type}.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")

def main():
    os.makedirs(os.path.join(HERE, "schemas"), exist_ok=True)
    for topic, types in INBOUND.items():
        for t, schema in types.items(): write_schema(t, schema, "inbound", topic)
    for t, schema in OUTBOUND.items():
        topics = [tp for tp, (_, ts) in OUTBOUND_TOPICS.items() if t in ts]
        received = [tp for tp, types in INBOUND.items() if t in types]
        if received:  # an application koki receives and forwards: one schema, both contracts
            write_schema(t, schema, f"inbound, {', '.join(received)}; forwarded outbound", ", ".join(topics))
        else:
            write_schema(t, schema, "outbound", ", ".join(topics))
    for t, schema in INTERNAL.items():
        write_schema(t, schema, "internal", INTERNAL_TOPIC.get(t, "koki.notices.v1"))
    write_schema("koki.dead-letter", DEAD_LETTER, "internal", "<topic>.dlq")

    # AsyncAPI 3: servers, channels (topics, with Kafka bindings), messages (one per ce_type: its
    # headers with ce_type fixed, its key, its payload schema), operations (with the groups).
    lines = ["asyncapi: 3.0.0", "info:", "  title: koki — 後期高齢者医療 back office events", "  version: 1.1.0", "  description: |",
             "    What upstream systems publish to koki (receive) and what koki publishes to the insurer and the city's",
             "    departments (send). Kafka, CloudEvents 1.0 binary mode: headers ce_specversion, ce_id, ce_type,",
             "    ce_source, ce_time, content-type application/json, optional traceparent (W3C). Delivery is at least",
             "    once and ordered per key: a consumer dedupes by (ce_source, ce_id) — koki's own events keep one",
             "    ce_id per fact, so a re-published one is the same event. Each destination receives only the fields",
             "    its legal basis allows (`koki policy show`): a field a destination may not receive is absent, so",
             "    most outbound fields are optional. Topic names carry the major version: a breaking change to a",
             "    message goes to a new topic (contracts/check-compat enforces it against contracts/published).",
             "defaultContentType: application/json",
             "servers:",
             "  production:",
             "    host: kafka:9094",
             "    protocol: kafka-secure",
             "    description: SASL_SSL (SCRAM-SHA-512) with ACLs per principal (docker/kafka-acls.sh); TLS verified.",
             "    security:",
             "      - $ref: '#/components/securitySchemes/scram'",
             "  example:",
             "    host: kafka:9092",
             "    protocol: kafka",
             "    description: docker/compose.yaml's single PLAINTEXT broker (not for personal data).",
             "channels:"]
    def key_schema(t):
        return f"{{type: string, const: '{KEY_CONST[t]}'}}" if t in KEY_CONST else "{type: string, pattern: '^[0-9]{10}$'}"
    def channel(topic, types, description, dlq=False):
        cid = topic.replace(".", "-")
        out = [f"  {cid}:", f"    address: {topic}", f"    description: {json.dumps(description, ensure_ascii=False)}", "    messages:"]
        for t in types:
            mid = t.replace(".", "-")
            headers = "deadLetterHeaders" if dlq else "cloudEventHeaders"
            out += [f"      {mid}:", f"        name: {t}", f"        title: {t}", "        headers:", "          allOf:",
                    f"            - $ref: '#/components/schemas/{headers}'",
                    "            - type: object", "              properties:", f"                ce_type: {{const: {t}}}",
                    "        payload:", f"          $ref: './schemas/{t}.json'", "        bindings:", "          kafka:",
                    "            key: " + ("{type: 'null'}" if dlq else key_schema(t))]
        # koki topics create's default retention for the topic's kind (Topics.Retention.standard).
        if topic in ("clock.business-day.v1", "koki.audit-checkpoints.v1"):
            retention = "-1  # kept"
        elif dlq:
            retention = f"{14 * 86_400_000}  # --dlq-retention-days (14)"
        elif topic in OUTBOUND_TOPICS or topic == "koki.notices.v1":
            retention = f"{30 * 86_400_000}  # --outbound-retention-days (30)"
        else:
            retention = f"{30 * 86_400_000}  # --inbound-retention-days (30)"
        config = ["        topicConfiguration:", "          cleanup.policy: [delete]", f"          retention.ms: {retention}"]
        out += ["    bindings:", "      kafka:", f"        partitions: {1 if dlq else PARTITIONS[topic]}", "        replicas: 3"] + config
        return out
    for topic, types in INBOUND.items():
        lines += channel(topic, list(types), "Inbound (EVENTS.md).")
    for topic, (name, types) in OUTBOUND_TOPICS.items():
        lines += channel(topic, types, f"To {name}.")
    lines += channel("koki.resident-updates.v1", ["koki.resident-update"], "Internal: resident worker to tax worker.")
    lines += channel("koki.notices.v1", [t for t in INTERNAL if t.startswith("notice.")],
                     "To the print contractor (委託), under the transfer policy: the notices to print and mail.")
    lines += channel("koki.audit-checkpoints.v1", ["koki.audit-checkpoint"],
                     "For the 情報システム管理者: the transfer and access logs' heads, with each business day (koki clock).")
    for topic in list(INBOUND) + ["koki.resident-updates.v1"]:
        lines += channel(topic + ".dlq", ["koki.dead-letter"],
                         f"Dead letters of {topic}: a reference per event not applied (never its body).", dlq=True)
    lines.append("operations:")
    for topic in list(INBOUND) + ["koki.resident-updates.v1"]:
        cid = topic.replace(".", "-")
        groups = ", ".join(GROUPS[topic])
        lines += [f"  receive-{cid}:", "    action: receive", "    channel:", f"      $ref: '#/channels/{cid}'",
                  "    bindings:", "      kafka:", f"        groupId: {{type: string, enum: [{groups}]}}"]
    for topic in list(OUTBOUND_TOPICS) + ["koki.resident-updates.v1", "koki.notices.v1", "koki.audit-checkpoints.v1"] + \
            [t + ".dlq" for t in list(INBOUND) + ["koki.resident-updates.v1"]]:
        cid = topic.replace(".", "-")
        lines += [f"  send-{cid}:", "    action: send", "    channel:", f"      $ref: '#/channels/{cid}'"]
    # The business days: koki's own scheduler publishes them (koki clock; koki tick by hand).
    lines += ["  send-clock-business-day-v1:", "    action: send", "    description: koki clock (and koki tick) publish each business day.",
              "    channel:", "      $ref: '#/channels/clock-business-day-v1'"]
    lines += ["components:", "  securitySchemes:", "    scram:", "      type: scramSha512",
              "      description: One principal per service (docker/compose.production.yaml, docker/kafka-acls.sh).",
              "  schemas:", "    cloudEventHeaders:", "      type: object",
              "      required: [ce_specversion, ce_id, ce_type, ce_source, ce_time, content-type]", "      properties:",
              "        ce_specversion: {type: string, const: '1.0'}", "        ce_id: {type: string, minLength: 1}",
              "        ce_type: {type: string}", "        ce_source: {type: string}", "        ce_time: {type: string, format: date-time}",
              "        content-type: {type: string, const: application/json}", "        traceparent: {type: string}",
              "    deadLetterHeaders:", "      type: object",
              "      required: [ce_specversion, ce_id, ce_type, ce_source, content-type, koki_dlq_topic, koki_dlq_partition,",
              "                 koki_dlq_offset, koki_dlq_group, koki_dlq_error_kind, koki_dlq_reason]", "      properties:",
              "        ce_specversion: {type: string, const: '1.0'}", "        ce_id: {type: string, minLength: 1}",
              "        ce_type: {type: string, const: koki.dead-letter}", "        ce_source: {type: string}",
              "        content-type: {type: string, const: application/json}", "        koki_dlq_topic: {type: string}",
              "        koki_dlq_partition: {type: string}", "        koki_dlq_offset: {type: string}",
              "        koki_dlq_timestamp: {type: string, description: 'milliseconds since the epoch, or empty'}",
              "        koki_dlq_group: {type: string}", "        koki_dlq_error_kind: {type: string}",
              "        koki_dlq_reason: {type: string, description: 'names a rule and a field, never a value'}"]
    with open(os.path.join(HERE, "asyncapi.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

main()
