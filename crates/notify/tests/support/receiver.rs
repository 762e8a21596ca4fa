//! An HTTP receiver on port 0 that records every request and answers as it is told, and
//! the two ways a receiver fails without answering (down, or closing the connection).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// How the receiver answers every request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status, with this body (JSON when it starts with `{`).
    Status(u16, String),
    /// 200, after this long.
    Slow(Duration),
    /// 302 to the receiver's own `/target`.
    Redirect,
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The body as form fields (`a=1&b=2`), decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        let body = String::from_utf8(self.body.clone()).unwrap();
        let url = reqwest::Url::parse(&format!("http://form.invalid/?{body}")).unwrap();
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct Shared {
    answer: Answer,
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(answer: Answer) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared { answer, base: base.clone(), received: received.clone() };
        let app = axum::Router::new().fallback(handle).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { base, received }
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn handle(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    shared.received.lock().unwrap().push(Received {
        method,
        path: uri.path().to_string(),
        headers,
        body: body.to_vec(),
    });
    match shared.answer {
        Answer::Status(code, body) => {
            let content_type = if body.starts_with('{') { "application/json" } else { "text/plain" };
            (StatusCode::from_u16(code).unwrap(), [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK.into_response()
        }
        Answer::Redirect => {
            (StatusCode::FOUND, [(header::LOCATION, format!("{}/target", shared.base))]).into_response()
        }
    }
}

/// A base URL where nothing listens (a port just bound and released): connecting is
/// refused.
pub fn down() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A base URL whose server reads a request and closes the connection without answering.
pub async fn closing() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            drop(stream);
        }
    });
    base
}
