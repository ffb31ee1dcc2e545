//! Fuzz loadtest's URL handling (target.rs): the URL, `--proxy` and `--host` as a user types
//! them. No input may panic; what is accepted must be a target whose requests are well formed
//! and whose URL, written back as the report writes it, is accepted again to the same place.

#![no_main]

use frota::RequestKind;
use libfuzzer_sys::fuzz_target;
use loadtest::target::Target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Up to three fields, one per line: URL, proxy, Host. An empty field is "not given".
    let mut fields = text.splitn(3, '\n');
    let url = fields.next().unwrap_or_default();
    let proxy = fields.next().filter(|p| !p.is_empty());
    let host = fields.next().filter(|h| !h.is_empty());
    let keepalive = data.len() % 2 == 0;
    let Ok(target) = Target::new(url, proxy, host, keepalive) else {
        return;
    };
    let (_, port) = target
        .connect_to()
        .rsplit_once(':')
        .expect("connect_to is host:port");
    port.parse::<u16>().expect("the port is a u16");
    for kind in RequestKind::ALL {
        let req = target.request(kind);
        assert!(req.starts_with(kind.method().as_str().as_bytes()));
        assert!(req.ends_with(b"\r\n\r\n"));
        // Nothing a user typed can end a line early: no extra header, no second request.
        let head = std::str::from_utf8(&req[..req.len() - 4]).expect("built from text");
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert!((4..=6).contains(&lines.len()), "{lines:?}");
        for line in lines {
            assert!(!line.bytes().any(|b| b.is_ascii_control()), "{line:?}");
        }
    }
    let again = Target::new(&format!("http://{}", target.authority()), None, None, true)
        .expect("the report's URL is accepted again");
    if proxy.is_none() {
        assert_eq!(again.connect_to(), target.connect_to());
    }
});
