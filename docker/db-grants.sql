-- After `koki migrate`: each executable's login may SET ROLE to (only) its role.
GRANT koki_resident TO resident_app;
GRANT koki_tax TO tax_app;
GRANT koki_payment TO payment_app;
GRANT koki_relay TO relay_app;
GRANT koki_clock TO clock_app;
GRANT CONNECT ON DATABASE koki TO resident_app, tax_app, payment_app, relay_app, clock_app;
