//! The canned answers tests serve, one copy each. Bodies come from the crates that own them
//! (`estrela_da_morte::wire::LANDED`, `frota::outcome::ACCESS_DENIED_BODY`); only the heads are
//! written here, and their `content-length` is checked against those bodies at compile time.

use estrela_da_morte::wire::LANDED;
use frota::outcome::ACCESS_DENIED_BODY;

/// Envoy's L7 denial, byte for byte as DESIGN.md describes it (with a fixed date).
pub const ENVOY_403: &[u8] = &ENVOY_403_BYTES;

/// A landing answer with lowercase headers, as a hyper server sends them (with a fixed date).
pub const LANDED_200: &[u8] = &LANDED_200_BYTES;

/// A status line with a four-digit code: no HTTP client takes it (outcome `error`, failure
/// `malformed`; curl's exit 1).
pub const BAD_STATUS: &[u8] = b"HTTP/1.1 2000 X\r\n\r\n";

/// A 200 whose body stops after 3 of the 10 bytes it announces, then the server closes:
/// outcome `reset` (curl's exit 18).
pub const BODY_CUT_SHORT: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc";

const ENVOY_403_HEAD: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 15\r\ncontent-type: text/plain\r\ndate: Thu, 26 Nov 2026 05:00:00 GMT\r\nserver: envoy\r\n\r\n";
const _: () = assert!(ACCESS_DENIED_BODY.len() == 15, "ENVOY_403's content-length");
const ENVOY_403_BYTES: [u8; ENVOY_403_HEAD.len() + ACCESS_DENIED_BODY.len()] =
    concat(ENVOY_403_HEAD, ACCESS_DENIED_BODY);

const LANDED_200_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 12\r\ndate: Thu, 26 Nov 2026 05:00:00 GMT\r\n\r\n";
const _: () = assert!(LANDED.len() == 12, "LANDED_200's content-length");
const LANDED_200_BYTES: [u8; LANDED_200_HEAD.len() + LANDED.len()] =
    concat(LANDED_200_HEAD, LANDED);

/// A landing answer whose head carries an `x-big` header of `filler` bytes: with `filler`
/// around `frota::outcome::MAX_HEAD_BYTES` it lands on either side of the shared head limit.
/// Leaked, so that it can be served like the constants (a test's process is short-lived).
pub fn landed_with_big_header(filler: usize) -> &'static [u8] {
    let mut answer = b"HTTP/1.1 200 OK\r\nx-big: ".to_vec();
    answer.extend(std::iter::repeat_n(b'a', filler));
    answer.extend_from_slice(b"\r\ncontent-length: 12\r\n\r\n");
    answer.extend_from_slice(LANDED);
    Box::leak(answer.into_boxed_slice())
}

/// `head` then `body`, at compile time; `N` must be their total length.
const fn concat<const N: usize>(head: &[u8], body: &[u8]) -> [u8; N] {
    assert!(head.len() + body.len() == N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < head.len() {
        out[i] = head[i];
        i += 1;
    }
    let mut j = 0;
    while j < body.len() {
        out[i + j] = body[j];
        j += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head's `content-length`, and the body after it.
    fn split(answer: &[u8]) -> (usize, &[u8]) {
        let end = crate::http::find(answer, b"\r\n\r\n").expect("a head") + 4;
        let head = std::str::from_utf8(&answer[..end]).expect("an ASCII head");
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.parse().ok())
            .expect("a content-length");
        (length, &answer[end..])
    }

    #[test]
    fn the_answers_carry_the_owners_bodies_with_their_lengths() {
        assert_eq!(split(ENVOY_403), (15, ACCESS_DENIED_BODY));
        assert!(ENVOY_403.starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
        assert_eq!(split(LANDED_200), (12, LANDED));
        assert!(LANDED_200.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert_eq!(split(BODY_CUT_SHORT), (10, &b"abc"[..]));
    }

    #[test]
    fn a_big_header_has_the_size_asked_for() {
        let small = landed_with_big_header(0);
        assert_eq!(landed_with_big_header(1000).len(), small.len() + 1000);
        assert_eq!(split(small), (12, LANDED));
    }
}
