//! Serving the router on a listener with the limits that keep a flood of
//! connections from exhausting the guard (`docs/RULES.md#local-failures`):
//! a cap on connections served at once (never more than half the
//! process's descriptor limit, the rest kept for probes and the store),
//! and a time limit for a client to send its request headers. A
//! connection over the cap is closed at once; accept errors (such as
//! running out of descriptors) are retried after a pause, never fatal.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The process's limit on open descriptors (soft), if known.
pub fn descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        if ok && limit.rlim_cur != libc::RLIM_INFINITY {
            return Some(limit.rlim_cur);
        }
    }
    None
}

/// The connection cap in force: `configured`, and never more than half
/// the descriptor limit.
pub fn connection_cap(configured: usize) -> usize {
    let half = descriptor_limit()
        .map(|l| (l / 2) as usize)
        .unwrap_or(usize::MAX);
    configured.min(half).max(1)
}

/// Serves `router` on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(connection_cap(max_connections)));
    loop {
        let stopping = async {
            let _ = stop.wait_for(|s| *s).await;
        };
        let accepted = tokio::select! {
            () = stopping => return Ok(()),
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("accepting a connection failed: {e}; pausing");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!("connection cap reached; a connection is closed");
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stopping = async move {
                let _ = conn_stop.wait_for(|s| *s).await;
            };
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                () = stopping => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}
