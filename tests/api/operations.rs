//! SPEC §3.8: health, readiness, metrics, the API document; request ids.

crate::both_backends! {
    async fn health_and_readiness(app) {
        let health = app.get("/healthz").await;
        assert_eq!(health.status, 200);
        assert_eq!(health.body, serde_json::json!({"status":"ok"}));
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status, 200);
        assert_eq!(ready.body, serde_json::json!({"status":"ok"}));
    }

    async fn metrics_are_prometheus_text(app) {
        app.get("/healthz").await;
        app.get("/nope").await;
        let metrics = app.get("/metrics").await;
        assert_eq!(metrics.status, 200);
        assert!(metrics.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
        assert!(metrics.text.contains("# TYPE revokd_http_requests_total counter"));
        assert!(metrics.text.contains("revokd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"));
        assert!(metrics.text.contains("status=\"404\""));
        assert!(metrics.text.contains("revokd_up{"));
        assert!(metrics.text.contains("revokd_http_request_duration_seconds_bucket"));
    }

    async fn store_metrics_count_revocations_and_pool_connections(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, serde_json::json!({"client_id":"web","grant_types":["client_credentials"]})).await;
        let count = |text: &str, series: &str| -> u64 {
            text.lines()
                .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {series} in /metrics"))
        };
        let series = "revokd_revocations_total{level=\"NONE\",outcome=\"revoked\"}";
        let before = count(&app.get("/metrics").await.text, series);
        let token = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await.body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(app.revoke(&domain, &web, &[("token", &token), ("revoke_level", "NONE")]).await.status, 200);
        let metrics = app.get("/metrics").await.text;
        // Other tests of this process revoke too: at least this one was counted.
        assert!(count(&metrics, series) > before);
        assert!(count(&metrics, "revokd_db_pool_connections{state=\"max\"}") >= 1);
        count(&metrics, "revokd_store_errors_total{kind=\"unavailable\"}");
    }

    async fn the_grafana_dashboard_names_only_metrics_that_exist(app) {
        app.get("/healthz").await;
        let exported: std::collections::BTreeSet<String> = app
            .get("/metrics")
            .await
            .text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split(['{', ' ']).next().map(str::to_owned))
            .collect();
        let dashboard: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/revokd.json")).unwrap(),
        )
        .unwrap();
        let mut named = std::collections::BTreeSet::new();
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                let mut rest = expr;
                while let Some(start) = rest.find("revokd_") {
                    let name: String = rest[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    rest = &rest[start + name.len()..];
                    named.insert(name);
                }
            }
        }
        assert!(named.len() >= 6, "{named:?}");
        let missing: Vec<&String> = named.difference(&exported).collect();
        assert!(missing.is_empty(), "the dashboard names metrics /metrics does not have: {missing:?}");
    }

    async fn openapi_json_serves_the_committed_document(app) {
        let served = app.get("/openapi.json").await;
        assert_eq!(served.status, 200);
        let committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(served.body, committed);
        assert_eq!(served.body["openapi"], "3.1.0");
    }

    async fn every_response_carries_a_request_id(app) {
        let answer = app.get("/healthz").await;
        assert_eq!(answer.header("x-request-id").map(str::len), Some(32));
        let echoed = app.http.get(app.url("/nope")).header("x-request-id", "abc-42").send().await.unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "abc-42");
    }
}

#[test]
fn the_readme_settings_table_lists_every_setting() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table: Vec<&str> = readme
        .split("## Configuration")
        .nth(1)
        .unwrap()
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    for variable in revokd::config::Settings::VARIABLES.iter().chain(&["RUST_LOG"]) {
        assert!(
            table.iter().any(|row| row.contains(&format!("`{variable}`"))),
            "README's settings table has no row for {variable}"
        );
    }
    for row in table.iter().skip(2) {
        assert_eq!(
            row.matches(" | ").count(),
            3,
            "every row says default, meaning and production: {row}"
        );
    }
}
