//! The local stack's HTTP server does not keep half-open connections: a client that sends
//! half a request is cut off within the header timeout, and connections beyond the limit
//! wait while the server goes on serving the others.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::Stack;

fn address(stack: &Stack) -> String {
    stack.url.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn half_a_request_is_cut_off_within_the_header_timeout() {
    let stack = Stack::start(&["--header-timeout", "1"]);
    let mut half_open = TcpStream::connect(address(&stack)).unwrap();
    half_open.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    half_open.write_all(b"GET /api/v1/users/me HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    let mut rest = Vec::new();
    // The server closes the connection (a read timeout would be an error here)
    half_open.read_to_end(&mut rest).expect("closed by the server, not by our read timeout");
    let after = started.elapsed();
    assert!(after < Duration::from_secs(3), "cut off after {after:?}");
    // Others are served all along
    stack.client().get("/api/v1/server_settings").await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_and_the_server_keeps_serving() {
    let stack = Stack::start(&["--max-connections", "3", "--header-timeout", "1"]);
    // Connections that send nothing, twice the limit
    let idle: Vec<TcpStream> = (0..6).map(|_| TcpStream::connect(address(&stack)).unwrap()).collect();
    let started = Instant::now();
    let answer = stack.client().get("/api/v1/server_settings").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert!(started.elapsed() < Duration::from_secs(6), "served after {:?}", started.elapsed());
    drop(idle);
}
