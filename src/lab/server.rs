//! The lab's HTTP server: routes, the body-size cap, and the locks that run at most one
//! simulation per client address and at most one per core.
//!
//! Built on `tiny_http`: blocking, a handful of small dependencies, no async runtime,
//! which is all a page that asks for one short run at a time needs.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page |
//! | `GET /lab.css`, `GET /lab.js` | its style and script |
//! | `GET /api/scenario` | the scenario's name, the controls, the cap on requests |
//! | `POST /api/run` | `{"set": ["KEY=VALUE", ...]}` → summary, time series, command |
//!
//! A second run from a client whose first is still running waits for it (the page
//! itself sends one at a time, the latest settings last).

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

use super::{Lab, page};

/// The largest request body accepted, bytes: a page's overrides take a few hundred.
pub const MAX_BODY: usize = 64 * 1024;

/// Threads answering requests; a run holds one for its length.
const WORKERS: usize = 8;

/// Counts runs in flight against a limit (the cores).
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(&self) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
    }

    fn give(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
    }
}

/// What the workers share.
struct Shared {
    lab: Lab,
    slots: Slots,
    /// One lock per client address: its runs go one after another.
    clients: Mutex<HashMap<IpAddr, Arc<Mutex<()>>>>,
}

/// A bound server, not yet answering.
pub struct LabServer {
    server: Arc<Server>,
    shared: Arc<Shared>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error("tiersim lab: cannot listen on {addr}: {message}")]
pub struct BindError {
    /// The address asked for.
    pub addr: SocketAddr,
    /// What the system said.
    pub message: String,
}

impl LabServer {
    /// Binds `addr` (port 0: a free port).
    pub fn bind(lab: Lab, addr: SocketAddr) -> Result<LabServer, BindError> {
        let server = Server::http(addr).map_err(|e| BindError {
            addr,
            message: e.to_string(),
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(LabServer {
            server: Arc::new(server),
            shared: Arc::new(Shared {
                lab,
                slots: Slots {
                    free: Mutex::new(cores),
                    freed: Condvar::new(),
                },
                clients: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The address it listens on (with the port picked for port 0).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.server_addr().to_ip()
    }

    /// Answers requests until `stop` is set; then lets the runs in flight finish and
    /// returns.
    pub fn serve(self, stop: &AtomicBool) {
        std::thread::scope(|scope| {
            for _ in 0..WORKERS {
                let server = &self.server;
                let shared = &self.shared;
                scope.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        // A short wait so that a stop is seen within a tenth of a second.
                        match server.recv_timeout(Duration::from_millis(100)) {
                            Ok(Some(request)) => answer(shared, request),
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                });
            }
        });
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

fn send(request: Request, status: u16, content_type: &str, body: Vec<u8>) {
    let response = Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"));
    // A client that went away needs no answer.
    let _ = request.respond(response);
}

fn send_json(request: Request, status: u16, value: &Value) {
    let body = serde_json::to_vec(value).expect("JSON serializes");
    send(request, status, "application/json", body);
}

fn error(request: Request, status: u16, message: &str) {
    send_json(request, status, &json!({ "error": message }));
}

fn answer(shared: &Shared, request: Request) {
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    match (request.method(), path.as_str()) {
        (Method::Get, "/") => send(
            request,
            200,
            "text/html; charset=utf-8",
            page::html(shared.lab.max_requests).into_bytes(),
        ),
        (Method::Get, "/lab.css") => send(request, 200, "text/css", page::CSS.into()),
        (Method::Get, "/lab.js") => send(request, 200, "text/javascript", page::JS.into()),
        (Method::Get, "/favicon.ico") => send(request, 204, "image/x-icon", Vec::new()),
        (Method::Get, "/api/scenario") => {
            let lab = &shared.lab;
            let value = json!({
                "name": lab.name(),
                "max_requests": lab.max_requests,
                "controls": lab.controls(),
                "command": lab.command(&[]),
            });
            send_json(request, 200, &value);
        }
        (Method::Post, "/api/run") => run(shared, request),
        (_, "/" | "/lab.css" | "/lab.js" | "/api/scenario" | "/api/run") => {
            error(request, 405, "method not allowed")
        }
        _ => error(request, 404, "not found"),
    }
}

/// The `set` list of a run's body: `{"set": ["KEY=VALUE", ...]}`.
fn parse_body(bytes: &[u8]) -> Result<Vec<String>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!("the body is not JSON ({e}); send {{\"set\": [\"KEY=VALUE\", ...]}}")
    })?;
    let list = match value.get("set") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("`set` must be a list of \"KEY=VALUE\" strings".into()),
    };
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "`set` must be a list of \"KEY=VALUE\" strings".to_owned())
        })
        .collect()
}

fn run(shared: &Shared, mut request: Request) {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        let message = format!("the body is larger than {MAX_BODY} bytes");
        return error(request, 413, &message);
    }
    let mut body = Vec::new();
    // One byte past the cap tells a body without a length that is too large.
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    if read.is_err() {
        return error(request, 400, "the body could not be read");
    }
    if body.len() > MAX_BODY {
        let message = format!("the body is larger than {MAX_BODY} bytes");
        return error(request, 413, &message);
    }
    let set = match parse_body(&body) {
        Ok(set) => set,
        Err(message) => return error(request, 400, &message),
    };
    let client = request
        .remote_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let lock = shared
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(client)
        .or_default()
        .clone();
    let result = {
        let _one_per_client = lock.lock().unwrap_or_else(|e| e.into_inner());
        shared.slots.take();
        // A panicking run must give its slot back and answer 500, not take a worker.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shared.lab.run(&set)));
        shared.slots.give();
        result
    };
    drop(lock);
    // Forget the clients with no run waiting or in flight, so the map stays small.
    shared
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|_, l| Arc::strong_count(l) > 1);
    match result {
        Ok(Ok(value)) => send_json(request, 200, &value),
        Ok(Err(refused)) => error(request, refused.status, &refused.message),
        Err(_) => error(
            request,
            500,
            "the run failed (a bug: please report it with the settings)",
        ),
    }
}
