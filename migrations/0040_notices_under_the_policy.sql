-- koki.notices.v1 goes to the print contractor (印刷・封入封緘の委託先), who prints and mails the
-- notices (security review M2): under the transfer policy like any destination — each notice
-- type's fields as data (a field not named is never sent; these are the contract's,
-- contracts/schemas/notice.*.json), no 個人番号, and every notice in the transfer log, as 委託
-- (not a 提供: the contractor handles the data for the city, 個人情報の保護に関する法律 第66条第2項
-- [verify the current numbering]). The city must send these notices (納入通知 地方自治法 第231条,
-- 督促 第231条の3, 保険料の決定 高確法 第104条), so a 利用停止 does not hold them.
-- Notices published before this migration went out unaudited; their rows are kept only for the
-- outbox's retention: removed, so `koki audit verify` holds every published notice to a row.
DELETE FROM outbox WHERE topic = 'koki.notices.v1' AND published_at IS NOT NULL;
INSERT INTO transfer_destinations (destination, name, topic, legal_basis, active_from, active_to) VALUES
    ('print-contractor', '通知書の印刷・封入封緘の委託先', 'koki.notices.v1',
     '委託 (個人情報の保護に関する法律 第66条第2項第1号: 委託を受けた者の安全管理措置), 地方自治法 第231条・第231条の3',
     '2008-04-01', NULL);
INSERT INTO transfer_rules (destination, event_type, fields, my_number_allowed, required_by_statute) VALUES
    ('print-contractor', 'notice.appropriation', ARRAY['atenaNo', 'amount', 'decidedOn', 'forHeirs'], false, true),
    ('print-contractor', 'notice.collection-method-changed', ARRAY['atenaNo', 'insuredNumber', 'fiscalYear', 'decidedOn', 'reason', 'installments[].no', 'installments[].dueDate', 'installments[].amount', 'installments[].method'], false, true),
    ('print-contractor', 'notice.dunning', ARRAY['atenaNo', 'fiscalYear', 'installmentNo', 'method', 'kind', 'dueDate', 'amount', 'balance', 'onDate', 'event'], false, true),
    ('print-contractor', 'notice.interim-collection', ARRAY['atenaNo', 'insuredNumber', 'fiscalYear', 'decidedOn', 'installments[].no', 'installments[].dueDate', 'installments[].amount', 'installments[].method', 'stopped'], false, true),
    ('print-contractor', 'notice.late-fee', ARRAY['atenaNo', 'amount', 'decidedOn', 'forHeirs'], false, true),
    ('print-contractor', 'notice.premium-changed', ARRAY['atenaNo', 'insuredNumber', 'fiscalYear', 'reason', 'decidedOn', 'premium', 'previousPremium', 'months', 'reduction', 'installments[].no', 'installments[].dueDate', 'installments[].amount', 'installments[].method', 'provisional'], false, true),
    ('print-contractor', 'notice.premium-decided', ARRAY['atenaNo', 'insuredNumber', 'fiscalYear', 'reason', 'decidedOn', 'premium', 'previousPremium', 'months', 'reduction', 'installments[].no', 'installments[].dueDate', 'installments[].amount', 'installments[].method', 'provisional'], false, true),
    ('print-contractor', 'notice.reconciliation-summary', ARRAY['date', 'openedToday', 'closedToday', 'open[].kind', 'open[].open'], false, true),
    ('print-contractor', 'notice.refund', ARRAY['atenaNo', 'amount', 'decidedOn', 'forHeirs', 'interest'], false, true),
    ('print-contractor', 'notice.reminder', ARRAY['atenaNo', 'fiscalYear', 'installmentNo', 'method', 'kind', 'dueDate', 'amount', 'balance', 'onDate', 'event'], false, true),
    ('print-contractor', 'notice.suspense', ARRAY['atenaNo', 'amount', 'decidedOn', 'forHeirs'], false, true);
