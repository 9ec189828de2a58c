//! A small W3C WebDriver client over reqwest (the few commands the browser test needs),
//! and the Debian `chromium` + `chromedriver` it drives: headless, a fresh profile,
//! nothing fetched from elsewhere. Outside CI a machine without them skips the browser
//! test with the reason; under `CI=true` that is a failure (`.ci/run` installs them).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `Some(path)` of a program on `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|path| path.is_file())
}

/// What a browser test needs from the machine, or why it cannot run: skipped with the
/// reason outside CI, a failure under `CI=true`.
pub fn require<T>(found: Result<T, String>, what: &str) -> Option<T> {
    match found {
        Ok(found) => Some(found),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{what} is required under CI=true: {why}"),
        Err(why) => {
            eprintln!("skipping {what}: {why}");
            None
        }
    }
}

/// The browser and its driver: `REVOKD_CHROMIUM` / `REVOKD_CHROMEDRIVER`, else
/// `chromium` and `chromedriver` on `PATH`.
pub fn chromium() -> Result<(PathBuf, PathBuf), String> {
    let find = |variable: &str, program: &str| {
        std::env::var_os(variable)
            .map(PathBuf::from)
            .or_else(|| on_path(program))
            .ok_or_else(|| format!("{program} is not installed (apt-get install chromium chromium-driver)"))
    };
    Ok((
        find("REVOKD_CHROMIUM", "chromium")?,
        find("REVOKD_CHROMEDRIVER", "chromedriver")?,
    ))
}

/// A running chromedriver with one headless Chromium session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    pub async fn start(chromium: &PathBuf, chromedriver: &PathBuf) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let profile = std::env::temp_dir().join(crate::helpers::unique("revokd-chromium"));
        let mut browser = Self {
            http: reqwest::Client::new(),
            session: String::new(),
            driver,
            profile,
        };
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.http.get(format!("{base}/status")).send().await.is_err() {
            if Instant::now() > deadline {
                return Err("chromedriver did not answer within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900",
                    format!("--user-data-dir={}", browser.profile.display()),
                ],
            },
        }}});
        let answer = browser
            .call("POST", &format!("{base}/session"), Some(capabilities))
            .await?;
        browser.session = format!(
            "{base}/session/{}",
            answer["sessionId"]
                .as_str()
                .ok_or_else(|| format!("no session: {answer}"))?
        );
        Ok(browser)
    }

    async fn call(&self, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let answer: Value = request
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match answer["value"].get("error") {
            Some(error) => Err(format!("{method} {url}: {error}: {}", answer["value"]["message"])),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("{}{path}", self.session), body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.command("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.command("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's source once it holds `text` (a click's navigation may still be on its
    /// way); panics after 30 s.
    pub async fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let source = self.source().await;
            if source.contains(text) {
                return source;
            }
            assert!(Instant::now() < deadline, "no {text:?} after 30 s in {source}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The element a CSS selector finds, as a WebDriver reference.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .command("POST", "/element", Some(json!({"using": "css selector", "value": css})))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub async fn exists(&self, css: &str) -> bool {
        let found = self
            .command(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found.as_array().is_some_and(|all| !all.is_empty())
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command("POST", &format!("/element/{element}/click"), None).await;
    }

    /// Runs `script` (a function body; a returned promise is awaited) in the page.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.command("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
            .await
    }

    /// Emulates a screen `width` CSS pixels wide (a phone when `mobile`) at `scale`.
    pub async fn viewport(&self, width: u32, height: u32, scale: f64, mobile: bool) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile});
        self.command(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params})),
        )
        .await;
    }

    /// A PNG of the whole page at `width` CSS pixels (a phone at 2× when `mobile`).
    pub async fn screenshot(&self, width: u32, mobile: bool) -> Vec<u8> {
        let scale = if mobile { 2.0 } else { 1.0 };
        self.viewport(width, 800, scale, mobile).await;
        let height = self
            .execute("return document.documentElement.scrollHeight;", json!([]))
            .await
            .as_u64()
            .unwrap_or(800);
        self.viewport(width, u32::try_from(height).unwrap_or(800).max(480), scale, mobile)
            .await;
        let png = self.command("GET", "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("a PNG")
    }
}

impl Browser {
    /// Ends the session (Chromium exits), then the driver.
    pub async fn quit(mut self) {
        let _ = self.call("DELETE", &self.session, None).await;
        self.session.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed half-way: end the session, blocking, so Chromium exits
        // with it rather than outliving its killed driver.
        if let Some(path) = self
            .session
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
        {
            use std::io::{Read, Write};
            if let Ok(mut stream) = std::net::TcpStream::connect(path.0) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    path.1, path.0
                );
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        // The driver is ours alone.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
