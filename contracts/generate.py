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
    "nextAddress": {"anyOf": [{**ADDRESS, "properties": {**ADDRESS["properties"], "startsOn": nullable(DATE)}}, {"type": "null"}]},
    "deathDate": nullable(DATE)},
    required=["nameKanji", "nameKana", "sex", "birthDate", "relationshipToHead", "residentStatus", "address"])
RESIDENT_CHANGE = obj({"atenaNo": ATENA, "myNumber": nullable(MY_NUMBER), "householdNo": string(pattern=r"^[0-9]{10}$"),
                       "change": obj({"effectiveDate": DATE, "notifiedDate": DATE}), "person": PERSON},
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
     "accessID": integer(minimum=1), "accessHash": string(pattern="^[0-9a-f]{64}$")},
    required=["seq", "hash", "takenAt"],
    description="The heads of the transfer log (seq, hash) and the access log (accessID, accessHash) when taken; "
                "`koki audit verify --checkpoint-topic` finds a chain rebuilt after any of them (key `audit`, no person)")
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

def write_schema(event_type, schema, direction, topic):
    doc = {"$schema": S, "$id": f"https://koki.example/contracts/schemas/{event_type}.json",
           "title": event_type, "description": f"Body of `{event_type}` ({direction}, {topic}). CloudEvents binary mode: the "
           "envelope is in the ce_* headers; the key is the person's 宛名番号.", **schema}
    with open(os.path.join(HERE, "schemas", f"{event_type}.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")

def main():
    os.makedirs(os.path.join(HERE, "schemas"), exist_ok=True)
    for topic, types in INBOUND.items():
        for t, schema in types.items(): write_schema(t, schema, "inbound", topic)
    for t, schema in OUTBOUND.items():
        topics = [tp for tp, (_, ts) in OUTBOUND_TOPICS.items() if t in ts]
        write_schema(t, schema, "outbound", ", ".join(topics))
    for t, schema in INTERNAL.items():
        write_schema(t, schema, "internal", INTERNAL_TOPIC.get(t, "koki.notices.v1"))

    # AsyncAPI 3: channels (topics), messages (one per ce_type, payload = the schema), operations.
    lines = ["asyncapi: 3.0.0", "info:", "  title: koki — 後期高齢者医療 back office events", "  version: 1.0.0", "  description: |",
             "    What upstream systems publish to koki (receive) and what koki publishes to the insurer and the city's",
             "    departments (send). Kafka, CloudEvents 1.0 binary mode: headers ce_specversion, ce_id (the dedupe key),",
             "    ce_type, ce_source, ce_time, content-type application/json, optional traceparent; the key is the",
             "    person's 宛名番号. Each destination receives only the fields its legal basis allows (`koki policy show`);",
             "    a field a destination may not receive is absent, so most outbound fields are optional.",
             "defaultContentType: application/json", "channels:"]
    def channel(topic, types, description):
        cid = topic.replace(".", "-")
        out = [f"  {cid}:", f"    address: {topic}", f"    description: {json.dumps(description, ensure_ascii=False)}", "    messages:"]
        for t in types:
            mid = t.replace(".", "-")
            out += [f"      {mid}:", f"        name: {t}", f"        title: {t}", "        headers:",
                    "          $ref: '#/components/schemas/cloudEventHeaders'", "        payload:",
                    f"          $ref: './schemas/{t}.json'"]
        return out
    for topic, types in INBOUND.items():
        lines += channel(topic, list(types), "Inbound (EVENTS.md).")
    for topic, (name, types) in OUTBOUND_TOPICS.items():
        lines += channel(topic, types, f"To {name}.")
    lines += channel("koki.resident-updates.v1", ["koki.resident-update"], "Internal: resident worker to tax worker.")
    lines += channel("koki.notices.v1", [t for t in INTERNAL if t.startswith("notice.")], "Internal: notices to print and mail.")
    lines += channel("koki.audit-checkpoints.v1", ["koki.audit-checkpoint"],
                     "For the 情報システム管理者: the transfer and access logs' heads, with each business day (koki clock).")
    lines.append("operations:")
    for topic, types in INBOUND.items():
        cid = topic.replace(".", "-")
        lines += [f"  receive-{cid}:", "    action: receive", "    channel:", f"      $ref: '#/channels/{cid}'"]
    for topic in list(OUTBOUND_TOPICS) + ["koki.audit-checkpoints.v1"]:
        cid = topic.replace(".", "-")
        lines += [f"  send-{cid}:", "    action: send", "    channel:", f"      $ref: '#/channels/{cid}'"]
    lines += ["components:", "  schemas:", "    cloudEventHeaders:", "      type: object",
              "      required: [ce_specversion, ce_id, ce_type, ce_source, ce_time, content-type]", "      properties:",
              "        ce_specversion: {type: string, const: '1.0'}", "        ce_id: {type: string, minLength: 1}",
              "        ce_type: {type: string}", "        ce_source: {type: string}", "        ce_time: {type: string, format: date-time}",
              "        content-type: {type: string, const: application/json}", "        traceparent: {type: string}"]
    with open(os.path.join(HERE, "asyncapi.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

main()
