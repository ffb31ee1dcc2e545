//! Fuzz a pod's egress proxy (the path every ship request takes): bytes over a real loopback
//! connection to caca-tie's proxy in a galaxy started once in this process, under the book's L7
//! policy, so that the request line, the headers, the target's resolution, the connection and HTTP
//! policy decisions and the forwarding to a Death Star replica all see them. The proxy resolves
//! only the galaxy's own names and dials only its pods on 127.0.0.1. No input may panic (a panic
//! in any task aborts, libFuzzer's hook) or hang.

#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use galaxia::galaxy::{Options, Ports, Running, launch};
use galaxia::manifest::{ApplyMode, book, load_str};
use libfuzzer_sys::fuzz_target;

struct World {
    _rt: tokio::runtime::Runtime,
    _running: Running,
    egress: SocketAddr,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let running = rt.block_on(async {
            let m = load_str(book::STARWARS, "starwars.yml").expect("the book's manifests");
            let options = Options {
                patrol: false,
                ..Options::default()
            };
            let r = launch(&m, options, Ports { hubble: 0, ui: 0 })
                .await
                .expect("the galaxy starts");
            assert!(r.galaxy.wait_ready(Duration::from_secs(60)).await.is_empty());
            let l7 = load_str(book::POLITICA_L7, "politica_l7.yml").expect("the L7 policy");
            r.galaxy
                .cluster
                .policies
                .apply_manifests(l7, "politica_l7.yml", ApplyMode::Create);
            r
        });
        let egress = running
            .galaxy
            .cluster
            .find_pod("caca-tie")
            .expect("caca-tie")
            .egress;
        World {
            _rt: rt,
            _running: running,
            egress,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let Ok(mut s) = TcpStream::connect_timeout(&w.egress, Duration::from_secs(2)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(3)));
    let _ = s.write_all(data);
    // The proxy sees the end of the request (and of the connection) at once, as from a client
    // that sent everything and waits for the answer.
    let _ = s.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let _ = s.take(1 << 20).read_to_end(&mut answer);
});
