//! Real receivers on loopback for outgoing messages: an SMTP server (Python's aiosmtpd,
//! writing a Maildir) and an HTTP receiver that records every request and answers as the
//! test scripts it (standing in for an SMS gateway, Slack, PagerDuty or a webhook
//! subscriber).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Whether a missing tool must fail the test (CI) rather than skip it.
pub fn servers_required() -> bool {
    std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Python's aiosmtpd on a free port, delivering every message into a Maildir.
pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Smtp {
    /// Start the server; `None` (with a note) where aiosmtpd is missing and servers are
    /// not required.
    pub async fn start() -> Option<Smtp> {
        Smtp::start_on(free_port()).await
    }

    /// Start the server on `port` (one a test kept free to have the server down first).
    pub async fn start_on(port: u16) -> Option<Smtp> {
        let ok = Command::new("python3").args(["-c", "import aiosmtpd, icalendar"]).status().is_ok_and(|s| s.success());
        if !ok {
            assert!(
                !servers_required(),
                "python3 with aiosmtpd and icalendar is required (.ci/services.sh installs them)"
            );
            eprintln!("skipped: python3 with aiosmtpd and icalendar is missing");
            return None;
        }
        let dir = tempfile::tempdir().expect("dir");
        let maildir = dir.path().join("mail");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(Smtp { port, maildir, child, _dir: dir });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, each read by Python's `email` and `icalendar`
    /// packages (tests/common/read_mail.py), oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort_by_key(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
        files.iter().map(|f| read_mail(f)).collect()
    }

    /// Wait (at most 20 s) until a received message satisfies `pick`.
    pub async fn wait_for(&self, pick: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..400 {
            if let Some(m) = self.messages().into_iter().find(|m| pick(m)) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no such message arrived; received: {:#?}", self.messages());
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One e-mail file read by Python's `email` and `icalendar` (tests/common/read_mail.py).
pub fn read_mail(path: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/read_mail.py");
    let out = Command::new("python3").arg(script).arg(path).output().expect("python3 runs");
    assert!(out.status.success(), "read_mail.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("read_mail.py answers JSON")
}

/// How the HTTP receiver answers a request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Wait this long, then 200.
    Slow(Duration),
}

/// A request the receiver took.
#[derive(Debug, Clone)]
pub struct Taken {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Taken {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

#[derive(Default)]
struct Script {
    /// Answers for the next requests, in order; then `Status(default)`.
    next: VecDeque<Answer>,
    default: Option<u16>,
    taken: Vec<Taken>,
}

/// An HTTP receiver on a free loopback port.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(Script::default()));
        let app = axum::Router::new().fallback(take).with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { base, script }
    }

    /// Answer the next requests so, in order (then as by default).
    pub fn answer(&self, answers: &[Answer]) {
        self.script.lock().expect("lock").next.extend(answers.iter().copied());
    }

    /// Answer every request without a scripted answer with `status` (200 if never set).
    pub fn answer_by_default(&self, status: u16) {
        self.script.lock().expect("lock").default = Some(status);
    }

    /// The requests taken on paths starting with `prefix`.
    pub fn taken(&self, prefix: &str) -> Vec<Taken> {
        self.script.lock().expect("lock").taken.iter().filter(|t| t.path.starts_with(prefix)).cloned().collect()
    }

    /// Wait (at most `secs`) until `n` requests on `prefix` were taken.
    pub async fn wait_for(&self, prefix: &str, n: usize, secs: u64) -> Vec<Taken> {
        for _ in 0..secs * 20 {
            let t = self.taken(prefix);
            if t.len() >= n {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} of {n} requests on {prefix} arrived: {:?}", self.taken(prefix).len(), self.taken(prefix));
    }
}

async fn take(State(script): State<Arc<Mutex<Script>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let answer = {
        let mut s = script.lock().expect("lock");
        s.taken.push(Taken { path: uri.path().to_string(), headers, body });
        let default = s.default.unwrap_or(200);
        s.next.pop_front().unwrap_or(Answer::Status(default))
    };
    match answer {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        Answer::Slow(wait) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK
        }
    }
}

/// How the raw receiver treats a connection.
#[derive(Debug, Clone, Copy)]
pub enum Raw {
    /// Read the request, then close the connection without a word.
    HangUp,
    /// Read the request, wait this long, then answer 200.
    Slow(Duration),
    /// Read the request and answer 200.
    Ok,
}

/// An HTTP receiver written on a bare TCP listener, for faults an HTTP server does not make:
/// it reads each request whole, records its body and headers, and treats the connection as
/// scripted (one entry per connection, then `Ok`).
pub struct RawReceiver {
    taken: Arc<Mutex<Vec<(String, Bytes)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawReceiver {
    pub async fn start_on(port: u16, script: &[Raw]) -> RawReceiver {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the kept port");
        let taken: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::default();
        let mut script: VecDeque<Raw> = script.iter().copied().collect();
        let record = taken.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let how = script.pop_front().unwrap_or(Raw::Ok);
                let record = record.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Headers, then as many bytes as Content-Length says.
                    let (head, start, len) = loop {
                        let Ok(n) = conn.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_string();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (name, value) = l.split_once(':')?;
                                    name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
                                })
                                .unwrap_or(0usize);
                            break (head, end + 4, end + 4 + len);
                        }
                    };
                    while buf.len() < len {
                        let Ok(n) = conn.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = Bytes::copy_from_slice(&buf[start..len]);
                    record.lock().expect("lock").push((head, body));
                    match how {
                        Raw::HangUp => return,
                        Raw::Slow(wait) => tokio::time::sleep(wait).await,
                        Raw::Ok => {}
                    }
                    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        RawReceiver { taken, task }
    }

    /// The requests read so far: (request line and headers, body).
    pub fn taken(&self) -> Vec<(String, Bytes)> {
        self.taken.lock().expect("lock").clone()
    }
}

impl Drop for RawReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
