-- Writes one setting to postgresql.auto.conf. The placeholders are replaced by the
-- quoted identifier and the quoted literal(s) built by pgconf/quote.rs.
ALTER SYSTEM SET {name} TO {value}
