//! A closed-loop HTTP/1.1 load generator: `connections` keep-alive connections, each
//! sending its next request only when the previous answer has arrived. Latencies of
//! requests that start after the warm-up go into an HDR histogram.
//!
//! It speaks just enough HTTP/1.1 for revokd and the ceiling server (requests built
//! once per call, answers with `Content-Length`), so the generator itself costs as
//! little CPU as possible: it shares the machine with the server it measures.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one benchmark sends and what it counts as a good answer.
pub trait Workload {
    /// Writes the next request into `out`; `None` when there is nothing left to send
    /// (a pool of one-use tokens ran dry).
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()>;
    /// Whether an answer is what a correct server sends.
    fn accept(&self, status: u16, body: &[u8]) -> bool;
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Good answers to requests started after the warm-up and answered in time.
    pub ok: u64,
    /// Every answer, warm-up included (to divide CPU time by).
    pub answered: u64,
    /// Wrong answers or broken connections, warm-up included.
    pub errors: u64,
    pub first_error: Option<String>,
    /// The workload ran out of requests before the end.
    pub exhausted: bool,
    pub seconds: f64,
    pub latency_us: Histogram<u64>,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    pub fn p50_ms(&self) -> f64 {
        self.latency_us.value_at_quantile(0.50) as f64 / 1000.0
    }

    pub fn p99_ms(&self) -> f64 {
        self.latency_us.value_at_quantile(0.99) as f64 / 1000.0
    }

    /// A run whose figure can be trusted: no errors, the workload never ran dry, and
    /// the server answered. (A server so slow that no request both started and ended
    /// within the measured window has a figure too: zero per second.)
    pub fn is_clean(&self) -> bool {
        self.errors == 0 && !self.exhausted && self.answered > 0
    }
}

struct Tally {
    ok: u64,
    answered: u64,
    errors: u64,
    first_error: Option<String>,
    exhausted: bool,
    latency_us: Histogram<u64>,
}

/// Runs `workload` against `address` with `plan`, on the current thread.
pub async fn run(address: SocketAddr, workload: Rc<dyn Workload>, plan: Plan) -> Measured {
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let end = measure_from + plan.measure;
    let tally = Rc::new(RefCell::new(Tally {
        ok: 0,
        answered: 0,
        errors: 0,
        first_error: None,
        exhausted: false,
        latency_us: new_histogram(),
    }));
    let local = tokio::task::LocalSet::new();
    for _ in 0..plan.connections {
        let (workload, tally) = (workload.clone(), tally.clone());
        local.spawn_local(async move { connection(address, workload, tally, measure_from, end).await });
    }
    local.await;
    let tally = tally.borrow();
    Measured {
        ok: tally.ok,
        answered: tally.answered,
        errors: tally.errors,
        first_error: tally.first_error.clone(),
        exhausted: tally.exhausted,
        seconds: plan.measure.as_secs_f64(),
        latency_us: tally.latency_us.clone(),
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 60 s at 3 significant digits: fixed bounds, so it can never fail.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant, valid bounds")
}

async fn connection(
    address: SocketAddr,
    workload: Rc<dyn Workload>,
    tally: Rc<RefCell<Tally>>,
    measure_from: Instant,
    end: Instant,
) {
    let mut request = Vec::with_capacity(1024);
    let mut buffer = Vec::with_capacity(4096);
    let mut stream: Option<TcpStream> = None;
    while Instant::now() < end {
        request.clear();
        if workload.next_request(&mut request).is_none() {
            tally.borrow_mut().exhausted = true;
            return;
        }
        let conn = match stream.as_mut() {
            Some(conn) => conn,
            None => match connect(address).await {
                Ok(conn) => stream.insert(conn),
                Err(e) => {
                    fail(&tally, format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        match exchange(conn, &request, &mut buffer).await {
            Ok((status, body)) => {
                let answered = Instant::now();
                let good = workload.accept(status, &buffer[body.clone()]);
                let mut t = tally.borrow_mut();
                t.answered += 1;
                if !good {
                    t.errors += 1;
                    if t.first_error.is_none() {
                        t.first_error = Some(format!("{status} {}", String::from_utf8_lossy(&buffer[body])));
                    }
                } else if sent >= measure_from && answered <= end {
                    t.ok += 1;
                    let micros = u64::try_from(answered.duration_since(sent).as_micros()).unwrap_or(u64::MAX);
                    t.latency_us.saturating_record(micros.max(1));
                }
            }
            Err(e) => {
                fail(&tally, format!("exchange: {e}"));
                stream = None;
            }
        }
    }
}

fn fail(tally: &RefCell<Tally>, message: String) {
    let mut t = tally.borrow_mut();
    t.errors += 1;
    t.first_error.get_or_insert(message);
}

async fn connect(address: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request and reads one answer; the status and where the body lies in
/// `buffer`.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> io::Result<(u16, std::ops::Range<usize>)> {
    stream.write_all(request).await?;
    buffer.clear();
    loop {
        if let Some(head_end) = find(buffer, b"\r\n\r\n") {
            let (status, length) = parse_head(&buffer[..head_end])?;
            let body_start = head_end + 4;
            while buffer.len() < body_start + length {
                read_more(stream, buffer).await?;
            }
            return Ok((status, body_start..body_start + length));
        }
        read_more(stream, buffer).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<()> {
    buffer.reserve(4096);
    if stream.read_buf(buffer).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> io::Result<(u16, usize)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let text = std::str::from_utf8(head).map_err(|_| bad("non-UTF-8 response head"))?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or_else(|| bad("no Content-Length"))?;
    Ok((status, length))
}

/// One request outside a timed run (readiness polls, verification samples).
pub async fn once(address: SocketAddr, request: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let mut stream = connect(address).await?;
    let mut buffer = Vec::new();
    let (status, body) = exchange(&mut stream, request, &mut buffer).await?;
    Ok((status, buffer[body].to_vec()))
}
