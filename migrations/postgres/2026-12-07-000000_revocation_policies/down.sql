DROP TABLE revocation_policies;
