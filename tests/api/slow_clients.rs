//! SPEC §5: a request whose headers or body do not arrive within 10 s is answered `408`
//! and closed, and idle keep-alive connections are closed after ~5 s, so slow clients
//! cannot hold the server's connections. Raw TCP, because an HTTP client library will
//! not send half a request.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, spawn_app};

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.unwrap()
}

/// Everything the server sends until it closes the connection, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!(
                "still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), started.elapsed())
}

#[tokio::test]
async fn an_unfinished_body_is_answered_408_and_closed() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /oauth2/rest/token/revoke?identityDomain=any HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=abc",
        )
        .await
        .unwrap();
    let (answer, after) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"invalid_request\""), "{answer}");
    assert!(after >= Duration::from_secs(9), "{after:?}");
}

#[tokio::test]
async fn unfinished_headers_and_idle_connections_are_closed() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let (answer, after) = read_until_closed(&mut idle, Duration::from_secs(15)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(after < Duration::from_secs(10), "{after:?}");
    let (_, after) = read_until_closed(&mut half, Duration::from_secs(20)).await;
    assert!(after < Duration::from_secs(15), "{after:?}");
}
