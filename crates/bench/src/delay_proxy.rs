//! A TCP proxy in front of PostgreSQL that adds a fixed round-trip time, so the benchmark
//! shows what round trips cost when the database is in another zone. Every chunk a client
//! (a node, pgbench) sends to the server is passed on `delay` after it arrived; answers
//! come back at once. So each round trip takes `delay` longer, and pipelined bytes are not
//! slowed further. Blocking threads rather than tokio timers: tokio's timer rounds up to
//! whole milliseconds, which would turn 1 ms into nearly 2.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Listen on a free local port and forward every connection to `target` (`host:port`) with
/// `delay` added to each round trip; the proxy's address. It runs until the process ends.
pub fn start(target: String, delay: Duration) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let target = target.clone();
            std::thread::spawn(move || {
                if let Ok(server) = TcpStream::connect(&target) {
                    relay(client, server, delay);
                }
            });
        }
    });
    Ok(addr)
}

fn relay(client: TcpStream, server: TcpStream, delay: Duration) {
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (Ok(mut client_in), Ok(mut server_in)) = (client.try_clone(), server.try_clone()) else { return };
    let (mut client_out, mut server_out) = (client, server);
    // The server's answers, at once.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut server_in, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Both);
    });
    // The client's messages, each `delay` after it arrived.
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (due, bytes) in rx {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if server_out.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = server_out.shutdown(Shutdown::Both);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match client_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.join();
}

/// `url` (`postgres://user@host:port/db?...`) with its host and port replaced by `addr`, and
/// the `host:port` it named (port 5432 if it named none).
pub fn through(url: &str, addr: SocketAddr) -> anyhow::Result<(String, String)> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| anyhow::anyhow!("not a URL: {url}"))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    anyhow::ensure!(!host.contains(','), "the latency proxy takes one database host, not a list");
    let target = if host.contains(':') { host.to_string() } else { format!("{host}:5432") };
    Ok((format!("{scheme}://{user}{addr}{tail}"), target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_pointed_at_the_proxy() {
        let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let (url, target) = through("postgres://postgres@db.example:5433/innkeep?sslmode=disable", addr).unwrap();
        assert_eq!(url, "postgres://postgres@127.0.0.1:7000/innkeep?sslmode=disable");
        assert_eq!(target, "db.example:5433");
        let (url, target) = through("postgres://localhost/x", addr).unwrap();
        assert_eq!((url.as_str(), target.as_str()), ("postgres://127.0.0.1:7000/x", "localhost:5432"));
    }
}
