//! Diesel's view of the tables in `migrations/`. Written by hand so one definition
//! serves both backends: only types that mean the same on SQLite and PostgreSQL
//! (BigInt, Text, Binary, Bool) appear here. `tests/api/store_schema.rs` checks it
//! against the migrated databases (columns, types, nullability; no table missing).

diesel::table! {
    domains (id) {
        id -> BigInt,
        name -> Text,
        access_token_ttl_secs -> BigInt,
        refresh_token_ttl_secs -> BigInt,
        public_clients_can_revoke -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        refresh_token_grace_secs -> BigInt,
        status_list_ttl_secs -> BigInt,
        revoke_on_password_change -> Bool,
    }
}

diesel::table! {
    clients (id) {
        domain_id -> BigInt,
        id -> BigInt,
        client_id -> Text,
        client_type -> Text,
        secret_hash -> Nullable<Binary>,
        grant_types -> Text,
        scopes -> Text,
        domain_admin -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        domain_id -> BigInt,
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        disabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents (id) {
        domain_id -> BigInt,
        id -> BigInt,
        user_ref -> BigInt,
        client_ref -> BigInt,
        scopes -> Text,
        granted_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        public_id -> Text,
    }
}

diesel::table! {
    signing_keys (id) {
        domain_id -> BigInt,
        id -> BigInt,
        kid -> Text,
        algorithm -> Text,
        private_key -> Binary,
        public_jwk -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    token_families (id) {
        domain_id -> BigInt,
        id -> BigInt,
        client_ref -> BigInt,
        user_ref -> Nullable<BigInt>,
        consent_ref -> Nullable<BigInt>,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        domain_id -> BigInt,
        id -> BigInt,
        kind -> Text,
        token_hash -> Binary,
        jti -> Text,
        family_ref -> Nullable<BigInt>,
        parent_ref -> Nullable<BigInt>,
        client_ref -> BigInt,
        user_ref -> Nullable<BigInt>,
        consent_ref -> Nullable<BigInt>,
        scopes -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        revoked_by -> Nullable<Text>,
        revoked_reason -> Nullable<Text>,
        status_list -> Nullable<BigInt>,
        status_idx -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        domain_id -> BigInt,
        id -> BigInt,
        occurred_at -> BigInt,
        action -> Text,
        actor -> Text,
        request_id -> Nullable<Text>,
        details -> Text,
        user_ref -> Nullable<BigInt>,
        client_ref -> Nullable<BigInt>,
    }
}

diesel::table! {
    revocation_watermarks (id) {
        domain_id -> BigInt,
        id -> BigInt,
        user_ref -> Nullable<BigInt>,
        client_ref -> Nullable<BigInt>,
        token_kind -> Nullable<Text>,
        revoked_before -> BigInt,
        reason -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    status_lists (domain_id, list_no) {
        domain_id -> BigInt,
        list_no -> BigInt,
        reserved -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    status_list_chunks (domain_id, list_no, chunk_no) {
        domain_id -> BigInt,
        list_no -> BigInt,
        chunk_no -> BigInt,
        bits -> Binary,
        version -> BigInt,
    }
}

diesel::table! {
    status_list_pending (domain_id, list_no, idx) {
        domain_id -> BigInt,
        list_no -> BigInt,
        idx -> BigInt,
    }
}

diesel::table! {
    account_sessions (id) {
        domain_id -> BigInt,
        id -> BigInt,
        session_hash -> Binary,
        user_ref -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    revocation_policies (domain_id) {
        domain_id -> BigInt,
        expression -> Text,
        enabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    domains,
    clients,
    users,
    consents,
    signing_keys,
    token_families,
    tokens,
    audit_events,
    revocation_watermarks,
    status_lists,
    status_list_chunks,
    status_list_pending,
    account_sessions,
    revocation_policies,
);
