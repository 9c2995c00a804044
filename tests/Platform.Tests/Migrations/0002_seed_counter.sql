INSERT INTO counters (name, value) VALUES ('applied', 1);
