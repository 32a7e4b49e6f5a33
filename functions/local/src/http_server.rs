//! The local stack's HTTP server: hyper's HTTP/1.1 connections with the limits a server on
//! the open network needs. A connection must send a request's headers within the header
//! timeout (also while it idles between requests); one on which nothing moves for the idle
//! timeout (a body that stops halfway, an answer nobody reads) is closed; and at most
//! `max_connections` are served at once: the next ones wait in the listen backlog until one
//! closes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

/// How long a client may take, and how many may be connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// To send a request's headers, counted from when the connection is ready for one.
    pub header_timeout: Duration,
    /// Without a byte moving either way, while a request is read or its answer written.
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { header_timeout: Duration::from_secs(10), idle_timeout: Duration::from_secs(60), max_connections: 1024 }
    }
}

/// How long open connections get to finish their request after shutdown starts.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves; then lets the connections finish
/// what they are doing (up to a few seconds).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let free = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = async {
            let permit = free.clone().acquire_owned().await.map_err(std::io::Error::other)?;
            let (stream, peer) = listener.accept().await?;
            Ok::<_, std::io::Error>((permit, stream, peer))
        };
        let (permit, stream, peer) = tokio::select! {
            accepted = accepted => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a reset before accept: wait a moment, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().layer(axum::Extension(ConnectInfo(peer)));
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let connection = builder.serve_connection(io, TowerToHyperService::new(service));
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
            drop(permit);
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = stop.send(true);
    if tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await.is_err() {
        connections.shutdown().await;
    }
    Ok(())
}

/// A connection that fails with `TimedOut` once reading or writing has waited `idle` without
/// a byte moving.
struct IdleTimeout<T> {
    io: T,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> IdleTimeout<T> {
    fn new(io: T, idle: Duration) -> Self {
        Self { io, idle, deadline: Box::pin(tokio::time::sleep(idle)) }
    }

    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    /// What a pending read or write turns into: still pending, or timed out.
    fn waiting<R>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<R>> {
        ready!(self.deadline.as_mut().poll(cx));
        Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connection idle too long")))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.moved();
                Poll::Ready(result)
            }
            Poll::Pending => this.waiting(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.moved();
                Poll::Ready(result)
            }
            Poll::Pending => this.waiting(cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.waiting(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    async fn start(limits: HttpLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(|ConnectInfo(peer): ConnectInfo<SocketAddr>, body: String| async move {
            format!("{} bytes from {}", body.len(), peer.ip())
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(serve(listener, app, limits, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    fn limits(header_ms: u64, idle_ms: u64, max_connections: usize) -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_millis(header_ms),
            idle_timeout: Duration::from_millis(idle_ms),
            max_connections,
        }
    }

    /// Reads until the server closes the connection; returns what it sent and when it closed.
    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Instant) {
        let mut text = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut text)).await.expect("the server closes").ok();
        (String::from_utf8_lossy(&text).into_owned(), Instant::now())
    }

    async fn get(addr: SocketAddr) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
            .await
            .unwrap();
        read_until_closed(&mut stream, Duration::from_secs(5)).await.0
    }

    #[tokio::test]
    async fn requests_are_served_with_the_peer_address() {
        let (addr, _stop) = start(HttpLimits::default()).await;
        let answer = get(addr).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("2 bytes from 127.0.0.1"), "{answer}");
    }

    #[tokio::test]
    async fn half_a_request_is_cut_off_within_the_header_timeout() {
        let (addr, _stop) = start(limits(300, 10_000, 16)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream.write_all(b"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        let after = closed - started;
        assert!(after >= Duration::from_millis(300) && after < Duration::from_secs(2), "closed after {after:?}");
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_too() {
        let (addr, _stop) = start(limits(300, 10_000, 16)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(closed - started < Duration::from_secs(2), "closed after {:?}", closed - started);
    }

    #[tokio::test]
    async fn a_body_that_stops_halfway_is_cut_off_after_the_idle_timeout() {
        let (addr, _stop) = start(limits(10_000, 400, 16)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b").await.unwrap();
        let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        let after = closed - started;
        assert!(after >= Duration::from_millis(400) && after < Duration::from_secs(3), "closed after {after:?}");
        assert!(!answer.contains("bytes from"), "the handler never saw a whole body: {answer}");
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_wait_and_are_served_once_one_closes() {
        let (addr, _stop) = start(limits(600, 10_000, 2)).await;
        // GIVEN two connections that hold their places without sending anything
        let mut holders = Vec::new();
        for _ in 0..2 {
            holders.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // WHEN a third client asks
        let started = Instant::now();
        let answer = get(addr).await;
        // THEN it waited for a place (the holders were cut at the header timeout), and got one
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(started.elapsed() >= Duration::from_millis(400), "served after {:?}", started.elapsed());
        // And the server goes on serving
        assert!(get(addr).await.starts_with("HTTP/1.1 200"));
        drop(holders);
    }
}
