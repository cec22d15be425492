-- Removes one setting from postgresql.auto.conf. The placeholder is replaced by the
-- quoted identifier built by pgconf/quote.rs.
ALTER SYSTEM RESET {name}
