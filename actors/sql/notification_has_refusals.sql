-- Whether the notification table has the columns of refused attempts (layout 2).
SELECT count(*) FROM pragma_table_info('notifications') WHERE name = 'attempts'
