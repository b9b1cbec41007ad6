//! `testing::capture_all` where a service's tests need it: a multi-thread
//! tokio runtime whose spawned tasks (and a plain thread) log through
//! slog-scope, `log` and `tracing`, and an axum app served on a real socket.
//! libtest runs these tests in parallel: the captures take turns, and each
//! sees only its own records. The control: `testing::capture` takes only
//! its own thread's, and says so.

use std::time::Duration;

use axum::extract::Path;
use slog_host::testing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Logs from `n` spawned tasks (slog-scope, `log`, `tracing` each) and one
/// plain thread, every record tagged `test`.
async fn log_from_tasks(test: &'static str, n: u64) {
    let mut tasks = Vec::new();
    for i in 0..n {
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            slog::info!(slog_scope::logger(), "through slog-scope"; "test" => test, "i" => i);
            log::info!(test, i; "through log");
            tracing::info!(test, i, "through tracing");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    std::thread::spawn(move || tracing::info!(test, "from a plain thread"))
        .join()
        .unwrap();
}

/// The records whose `test` field is `test`, parsed.
fn tagged(lines: &[String], test: &str) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["test"] == test)
        .collect()
}

/// Asserts that `lines` hold no record of the other tests.
fn only_own(lines: &[String], own: &str) {
    for other in ["tasks", "axum", "control"] {
        if other != own {
            assert!(
                tagged(lines, other).is_empty(),
                "{own} saw {other}'s records: {lines:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spawned_tasks_and_threads_are_captured() {
    let logs = testing::capture_all();
    let c = logs.coverage();
    assert!(c.all_threads && c.log && c.tracing_all_threads, "{c}");
    log_from_tasks("tasks", 50).await;
    let lines = logs.lines();
    let mine = tagged(&lines, "tasks");
    for msg in ["through slog-scope", "through log", "through tracing"] {
        // Each task's record once, its `i` typed (`log`'s key-values too).
        let mut seen: Vec<u64> = mine
            .iter()
            .filter(|v| v["msg"] == msg)
            .map(|v| v["i"].as_u64().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>(), "{msg}: {lines:#?}");
    }
    assert_eq!(mine.len(), 151, "{lines:#?}");
    only_own(&lines, "tasks");
}

async fn order(Path(id): Path<u64>) -> String {
    slog::info!(slog_scope::logger(), "handler, slog-scope"; "test" => "axum", "order_id" => id);
    log::info!(test = "axum", order_id = id; "handler, log");
    tracing::info!(test = "axum", order_id = id, "handler, tracing");
    format!("order {id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_handler_served_on_a_socket_is_captured() {
    let logs = testing::capture_all();
    let app = axum::Router::new().route("/orders/{id}", axum::routing::get(order));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for id in 0..5 {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET /orders/{id} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&format!("order {id}")), "{answer}");
    }
    server.abort();
    let lines = logs.lines();
    let mine = tagged(&lines, "axum");
    assert_eq!(mine.len(), 15, "{lines:#?}");
    for id in 0..5u64 {
        let n = mine.iter().filter(|v| v["order_id"] == id).count();
        assert_eq!(n, 3, "order {id}: {lines:#?}");
    }
    only_own(&lines, "axum");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_takes_only_its_own_thread_and_says_so() {
    // Its turn among the capture_all tests: the tasks' records go to it,
    // never to another test's.
    let all = testing::capture_all();
    let mine = testing::capture();
    let c = mine.coverage();
    assert!(!c.all_threads && c.log && !c.tracing_all_threads, "{c}");
    assert!(c.to_string().contains("tokio"), "{c}");
    tracing::info!(test = "control", "on the test's own thread");
    slog::info!(slog_scope::logger(), "slog-scope on the test's thread"; "test" => "control");
    log_from_tasks("control", 10).await;
    assert_eq!(
        tagged(&mine.lines(), "control").len(),
        2,
        "{:#?}",
        mine.lines()
    );
    drop(mine);
    let lines = all.lines();
    assert_eq!(tagged(&lines, "control").len(), 31, "{lines:#?}");
    only_own(&lines, "control");
    // The global tracing subscriber is capture_all's: init() says so.
    let e = slog_host::Builder::new().init().unwrap_err().to_string();
    assert!(e.contains("by testing::capture_all"), "{e}");
}

#[test]
fn a_nested_capture_all_panics_at_once() {
    let _all = testing::capture_all();
    let t = std::time::Instant::now();
    let nested = std::panic::catch_unwind(testing::capture_all);
    assert!(
        nested.is_err(),
        "one thread's capture_all calls do not nest"
    );
    // Not the turn's five-minute wait on itself.
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
