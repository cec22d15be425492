-- A maintenance statement may run for hours (VACUUM FULL of a big table): its
-- dedicated connection lifts the statement timeout. The lock timeout stays, so
-- that an operation does not queue behind a long transaction, blocking everyone.
SET statement_timeout = 0
