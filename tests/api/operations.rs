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
