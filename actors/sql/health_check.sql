-- Is the instance accepting queries?
SELECT 1
