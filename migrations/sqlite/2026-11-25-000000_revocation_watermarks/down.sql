DROP TABLE revocation_watermarks;
