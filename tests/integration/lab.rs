//! `tiersim lab` over real HTTP on loopback: a run matches `tiersim run`, a bad setting
//! is a 400 with the run's message, the caps, the bind address, Ctrl-C; and the page
//! driven in headless Chromium through WebDriver (ignored by `cargo test`; `.ci/run`
//! runs it where Chromium and chromedriver are installed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{command, repo, stderr, tiersim};

/// Requests per lab run in these tests: above app_tier's 100,000 warm-up, small enough
/// to take a fraction of a second.
const CAP: u64 = 120_000;

/// A child process killed when dropped, so a failing test leaves no server behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `tiersim lab` and the address it printed.
struct LabProcess {
    child: Killed,
    addr: SocketAddr,
}

fn start_lab(args: &[&str]) -> LabProcess {
    let mut child = command()
        .arg("lab")
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tiersim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let child = Killed(child);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    LabProcess { child, addr }
}

fn app_tier_lab() -> LabProcess {
    start_lab(&[
        "scenarios/app_tier.toml",
        "--port",
        "0",
        "--max-requests",
        &CAP.to_string(),
    ])
}

/// One HTTP/1.1 exchange (`Connection: close`): the status and the body, read to its
/// `Content-Length` (chromedriver keeps the connection open after its answer).
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.unwrap_or(b"");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    (&s).write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body, and close.
    let _ = (&s).write_all(body);
    let mut r = BufReader::new(&s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let n = usize::from_str_radix(line.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            out.extend(&chunk[..n]);
        }
    } else if let Some(n) = length {
        out.resize(n, 0);
        r.read_exact(&mut out).unwrap();
    } else {
        let _ = r.read_to_end(&mut out);
    }
    (status, String::from_utf8_lossy(&out).into_owned())
}

fn post_run(addr: SocketAddr, set: &[&str]) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({ "set": set })).unwrap();
    let (status, text) = http(addr, "POST", "/api/run", Some(&body));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `tiersim run SCENARIO --set ... --set requests=<cap>`'s summary.json.
fn run_summary(scenario: &str, set: &[String], cap: u64) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec!["run".to_owned(), scenario.to_owned(), "--quiet".to_owned()];
    for s in set {
        args.extend(["--set".to_owned(), s.clone()]);
    }
    args.extend([
        "--set".to_owned(),
        format!("requests={cap}"),
        "--out".to_owned(),
        out.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tiersim(repo(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn api_run_matches_tiersim_run() {
    let lab = app_tier_lab();
    let (status, text) = http(lab.addr, "GET", "/api/scenario", None);
    assert_eq!(status, 200, "{text}");
    let info: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["name"], "app_tier");
    assert_eq!(info["max_requests"], CAP);
    let keys: Vec<&str> = info["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"layers.l1.ttl_s"), "{keys:?}");
    assert!(keys.contains(&"layers.redis.stampede.mode"), "{keys:?}");
    for set in [
        vec![],
        vec!["layers.l1.ttl_s=5", "layers.redis.policy=s3fifo"],
    ] {
        let (status, body) = post_run(lab.addr, &set);
        assert_eq!(status, 200, "{body}");
        let owned: Vec<String> = set.iter().map(|s| (*s).to_owned()).collect();
        let expected = run_summary("scenarios/app_tier.toml", &owned, CAP);
        // The whole summary, bit for bit: the same plan through the same engine.
        assert_eq!(body["summary"], expected, "set {set:?}");
        assert!(!body["timeseries"].as_array().unwrap().is_empty());
        let command = body["command"].as_str().unwrap();
        assert!(
            command.ends_with(&format!("--set requests={CAP}")),
            "{command}"
        );
    }
    // Redis's TTL matters: 5 s instead of 300 s sends more reads to the origin.
    let (_, base) = post_run(lab.addr, &[]);
    let (_, short) = post_run(lab.addr, &["layers.redis.ttl_s=5"]);
    assert!(
        short["summary"]["origin"]["requests"].as_u64()
            > base["summary"]["origin"]["requests"].as_u64()
    );
}

#[test]
fn a_bad_setting_is_a_400_with_the_message_run_prints() {
    let lab = app_tier_lab();
    for bad in [
        "layers.l1.ttl_s=-1",
        "layers.redis.policy=nope",
        "layers.l1.jitter=2",
        "novalue",
    ] {
        let (status, body) = post_run(lab.addr, &[bad]);
        assert_eq!(status, 400, "{bad}: {body}");
        let run = tiersim(
            repo(),
            &["run", "scenarios/app_tier.toml", "--quiet", "--set", bad],
        );
        assert_eq!(run.status.code(), Some(2));
        let printed = stderr(&run);
        let printed = printed.trim().strip_prefix("error: ").unwrap();
        assert_eq!(body["error"].as_str().unwrap(), printed, "{bad}");
    }
    // Not a list of strings, not JSON: 400 saying what to send.
    let (status, text) = http(lab.addr, "POST", "/api/run", Some(b"{\"set\": 5}"));
    assert_eq!(status, 400);
    assert!(text.contains("list of"), "{text}");
    let (status, text) = http(lab.addr, "POST", "/api/run", Some(b"not json"));
    assert_eq!(status, 400);
    assert!(text.contains("not JSON"), "{text}");
}

#[test]
fn requests_and_bodies_above_the_caps_are_refused() {
    let lab = app_tier_lab();
    let over = format!("requests={}", CAP + 1);
    let (status, body) = post_run(lab.addr, &[&over]);
    assert_eq!(status, 400, "{body}");
    let e = body["error"].as_str().unwrap();
    assert!(e.contains(&format!("at most {CAP} requests")), "{e}");
    // A body above 64 KiB is refused before it is parsed.
    let big = format!("{{\"set\": [\"{}\"]}}", "x".repeat(70_000));
    let (status, _) = http(lab.addr, "POST", "/api/run", Some(big.as_bytes()));
    assert_eq!(status, 413);
    // The page states the cap, and loads nothing from elsewhere.
    let (status, page) = http(lab.addr, "GET", "/", None);
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<b>{CAP}</b> requests")), "{page}");
    for asset in ["/", "/lab.css", "/lab.js"] {
        let (_, text) = http(lab.addr, "GET", asset, None);
        let urls: Vec<&str> = text
            .match_indices("http")
            .map(|(i, _)| &text[i..(i + 30).min(text.len())])
            .filter(|u| !u.starts_with("http://www.w3.org/2000/svg"))
            .collect();
        assert!(urls.is_empty(), "{asset} names {urls:?}");
    }
}

#[test]
fn binds_loopback_only_unless_asked() {
    let lab = app_tier_lab();
    assert_eq!(lab.addr.ip().to_string(), "127.0.0.1");
    assert!(TcpStream::connect(lab.addr).is_ok());
    // 127.0.0.2 reaches this machine too, but not a socket bound to 127.0.0.1 alone (one
    // bound to 0.0.0.0 would answer there).
    let other = SocketAddr::new([127, 0, 0, 2].into(), lab.addr.port());
    assert!(TcpStream::connect(other).is_err(), "{other} answered");
}

#[test]
fn a_bad_scenario_or_flag_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = tiersim(dir.path(), &["lab", "missing.toml", "--port", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.toml"), "{}", stderr(&o));
    let o = tiersim(dir.path(), &["lab", "--port", "0", "--max-requests", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--max-requests"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let mut lab = app_tier_lab();
    let pid = lab.child.0.id().to_string();
    let sent = command_status("kill", &["-INT", &pid]);
    assert!(sent, "kill -INT {pid}");
    // Bounded wait for a hang, not a speed check: a stop is seen within 0.1 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = lab.child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    lab.child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("stopped"), "{err}");
    assert!(TcpStream::connect(lab.addr).is_err());
}

fn command_status(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// A WebDriver session, deleted (so Chromium quits) when dropped.
struct Session {
    driver: SocketAddr,
    id: String,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.id);
        let body = (!body.is_null()).then(|| serde_json::to_vec(&body).unwrap());
        let (status, text) = http(self.driver, method, &path, body.as_deref());
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{method} {path}: {text}");
        v["value"].clone()
    }

    fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": js, "args": [] }))
    }

    /// Polls `js` until it returns true (bounded, so a broken page fails, not hangs).
    fn wait_for(&self, js: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.script(js) != Value::Bool(true) {
            assert!(Instant::now() < deadline, "gave up waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.id);
        let _ = http(self.driver, "DELETE", &path, None);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Decodes standard base64 (the WebDriver screenshot).
fn base64(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | u32::from(digit(c)) << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
#[ignore = "needs chromium and chromedriver (Debian's chromium-driver); .ci/run installs and runs it"]
fn browser_ttl_slider_redraws_origin_load() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(Path::new(&chromium).exists(), "no {chromium}");
    assert!(Path::new(&chromedriver).exists(), "no {chromedriver}");
    let lab = app_tier_lab();
    let port = free_port();
    let _driver = Killed(
        std::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let driver = SocketAddr::new([127, 0, 0, 1].into(), port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(driver).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    }}});
    let (status, text) = http(
        driver,
        "POST",
        "/session",
        Some(&serde_json::to_vec(&caps).unwrap()),
    );
    assert_eq!(status, 200, "new session: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let session = Session {
        driver,
        id: v["value"]["sessionId"].as_str().unwrap().to_owned(),
    };
    session.call(
        "POST",
        "/url",
        json!({ "url": format!("http://{}/", lab.addr) }),
    );
    let done = |runs: u64| {
        format!(
            "const s = document.getElementById('status'); \
             return Number(s.dataset.runs) >= {runs} && s.dataset.state === 'done';"
        )
    };
    session.wait_for(&done(1), "the first run");
    let before = session.script("return document.getElementById('origin-rps').dataset.value;");
    let slider = session.call(
        "POST",
        "/element",
        json!({ "using": "css selector", "value": "input[data-key='layers.redis.ttl_s']" }),
    );
    let slider = slider["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap()
        .to_owned();
    // A click moves the slider to where it lands, Home to its first value (1 s): each
    // fires a change, and the page sends the latest once the run in flight is done.
    session.call("POST", &format!("/element/{slider}/click"), json!({}));
    let home = "\u{E011}";
    session.call(
        "POST",
        "/actions",
        json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": home }, { "type": "keyUp", "value": home },
        ]}]}),
    );
    session.wait_for(
        "const s = document.getElementById('status'); \
         const set = JSON.parse(document.getElementById('command').dataset.set); \
         return s.dataset.state === 'done' && set.includes('layers.redis.ttl_s=1');",
        "the redraw with TTL 1 s",
    );
    let set: Vec<String> = serde_json::from_str(
        session
            .script("return document.getElementById('command').dataset.set;")
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(set, ["layers.redis.ttl_s=1"]);
    let shown = session.script("return document.getElementById('origin-rps').dataset.value;");
    assert_ne!(shown, before, "the origin load did not change");
    let shown: f64 = shown.as_str().unwrap().parse().unwrap();
    let expected = run_summary("scenarios/app_tier.toml", &set, CAP);
    assert_eq!(shown, expected["origin"]["mean_rps"].as_f64().unwrap());
    let text = session.script("return document.getElementById('origin-rps').textContent;");
    assert_eq!(text, format!("{shown:.1} req/s"));
    // Every chart drew: a line over time, a bar per cache layer, four latency bars.
    let counts = session.script(
        "return [document.querySelectorAll('#chart-origin polyline').length, \
                 document.querySelectorAll('#chart-hits rect').length, \
                 document.querySelectorAll('#chart-latency rect').length];",
    );
    assert_eq!(counts, json!([1, 2, 4]));
    assert_eq!(
        session.script("return document.getElementById('error').hidden;"),
        Value::Bool(true)
    );
    let log = session.call("POST", "/se/log", json!({ "type": "browser" }));
    let errors: Vec<&Value> = log
        .as_array()
        .expect("a browser log")
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    // TIERSIM_LAB_SCREENSHOT=path keeps a picture of the page (README's is made so).
    if let Ok(path) = std::env::var("TIERSIM_LAB_SCREENSHOT") {
        let png = session.call("GET", "/screenshot", Value::Null);
        std::fs::write(path, base64(png.as_str().unwrap())).unwrap();
    }
}
