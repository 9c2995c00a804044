-- Secret values are stored encrypted (enc:v1:<key id>:…, see SecretProtector). Rows from before are plaintext, marked
-- here as not encrypted until the service re-encrypts them at start.
ALTER TABLE secrets ADD COLUMN encrypted boolean NOT NULL DEFAULT false;
