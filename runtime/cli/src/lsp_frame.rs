//! `rrae lsp`'s transport: the Language Server Protocol's framing on stdin/stdout, with
//! limits and error replies where `lsp-server`'s own trusted its input.
//!
//! `lsp-server` reads `Content-Length` and allocates that many bytes before reading them:
//! 2^64 − 1 panicked its reader thread ("capacity overflow"), 2^63 − 1 aborted the
//! process, 6e9 allocated 5.9 GB for a two-byte body; and one message that was not JSON
//! (or not UTF-8) ended the server. Here a header block is at most [`MAX_HEADER`] bytes,
//! a body at most [`MAX_MESSAGE`] (a larger one is read past in pieces and answered with
//! an error, so the stream stays in step), and a body that is not a JSON-RPC message is
//! answered with JSON-RPC's −32700 (not JSON) or −32600 (JSON, not a message), `id`
//! null unless the request had one; the server goes on either way.
//!
//! This file is also compiled into the fuzz harness (`fuzz/`'s `lsp` target), which
//! feeds [`read_frame`] and [`parse`] arbitrary bytes.

use serde_json::{json, Value};
use std::io::{BufRead, Read};

/// The largest message body read: far past any document an editor sends.
pub const MAX_MESSAGE: u64 = 64 << 20;
/// The most header bytes before the blank line that ends them.
pub const MAX_HEADER: usize = 8 << 10;

/// What one read from the stream gave.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A body within the limit.
    Body(Vec<u8>),
    /// A frame that could not be taken: what to tell the client (the stream goes on).
    Refused(String),
    /// The stream ended.
    End,
}

/// Reads the next frame: header lines up to a blank line, then `Content-Length` bytes.
pub fn read_frame(r: &mut impl BufRead) -> std::io::Result<Frame> {
    let mut length: Option<Result<u64, String>> = None;
    let mut seen = 0usize;
    let mut any = false;
    loop {
        let mut line = Vec::new();
        let n = r
            .by_ref()
            .take((MAX_HEADER - seen.min(MAX_HEADER) + 1) as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(if any {
                Frame::Refused("the stream ended inside a header".into())
            } else {
                Frame::End
            });
        }
        any = true;
        seen += n;
        if seen > MAX_HEADER {
            skip_line(r)?;
            return Ok(Frame::Refused(format!(
                "a header block over {MAX_HEADER} bytes"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !line.ends_with(b"\n") {
                return Ok(Frame::Refused("the stream ended inside a header".into()));
            }
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                let v = value.trim();
                length = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("Content-Length `{v}` is not a byte count")),
                );
            }
        }
    }
    let len = match length {
        None => return Ok(Frame::Refused("a message without Content-Length".into())),
        Some(Err(e)) => return Ok(Frame::Refused(e)),
        Some(Ok(len)) => len,
    };
    if len > MAX_MESSAGE {
        // Read past the body without keeping it, so the next frame starts where it should.
        let skipped = std::io::copy(&mut r.by_ref().take(len), &mut std::io::sink())?;
        return Ok(Frame::Refused(format!(
            "a message of {len} bytes, over the {} MiB limit{}",
            MAX_MESSAGE >> 20,
            if skipped < len {
                " (the stream ended inside it)"
            } else {
                ""
            }
        )));
    }
    let mut body = Vec::with_capacity(len as usize);
    r.by_ref().take(len).read_to_end(&mut body)?;
    if (body.len() as u64) < len {
        return Ok(Frame::Refused(format!(
            "the stream ended after {} of the message's {len} bytes",
            body.len()
        )));
    }
    Ok(Frame::Body(body))
}

/// Drops the rest of an over-long header line.
fn skip_line(r: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        r.consume(n);
    }
}

/// A body as a message, or the JSON-RPC error reply it gets.
pub fn parse(body: &[u8]) -> Result<lsp_server::Message, Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Err(error(Value::Null, -32700, &format!("not JSON: {e}"))),
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    // `lsp-server` reads any object with an `id` as a response: say what a message is.
    let shape = match (value.get("method"), &value) {
        (_, v) if !v.is_object() => Some("a message is a JSON object"),
        (Some(m), _) if !m.is_string() => Some("`method` is a string"),
        (None, v) if v.get("result").is_none() && v.get("error").is_none() => {
            Some("a message without `method` is a response, with `result` or `error`")
        }
        _ => None,
    };
    if let Some(what) = shape {
        return Err(error(
            id,
            -32600,
            &format!("not a JSON-RPC message: {what}"),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| error(id, -32600, &format!("not a JSON-RPC message: {e}")))
}

/// A JSON-RPC error reply.
pub fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Writes one framed message.
pub fn write(w: &mut impl std::io::Write, v: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(v)?;
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(&body)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut r = std::io::BufReader::new(input);
        let mut out = vec![];
        loop {
            let frame = read_frame(&mut r).unwrap(); // ok: test
            match frame {
                Frame::End => return out,
                f => out.push(f),
            }
        }
    }

    #[test]
    fn huge_or_bad_lengths_are_refused_and_the_next_message_is_still_read() {
        let ok = br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let mut input = b"Content-Length: 18446744073709551615\r\n\r\nab".to_vec();
        let next = |input: &mut Vec<u8>| {
            input.extend(format!("Content-Length: {}\r\n\r\n", ok.len()).bytes());
            input.extend(ok);
        };
        let got = frames(&input);
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], Frame::Refused(m) if m.contains("18446744073709551615 bytes, over the 64 MiB limit (the stream ended inside it)"))
        );
        // A large declared length that the stream does hold is read past, then in step.
        input = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE + 3).into_bytes();
        input.resize(input.len() + MAX_MESSAGE as usize + 3, b'x');
        next(&mut input);
        let got = frames(&input);
        assert!(matches!(&got[0], Frame::Refused(m) if m.ends_with("over the 64 MiB limit")));
        assert_eq!(got[1], Frame::Body(ok.to_vec()));
        input = b"Content-Length: six\r\n\r\n".to_vec();
        next(&mut input);
        let got = frames(&input);
        assert_eq!(
            got[0],
            Frame::Refused("Content-Length `six` is not a byte count".into())
        );
        assert_eq!(got[1], Frame::Body(ok.to_vec()));
    }

    #[test]
    fn a_body_that_is_not_a_message_gets_the_json_rpc_error_with_its_id() {
        let e = parse(b"\xff\xfe{").unwrap_err();
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(-32700), &Value::Null)
        );
        let e = parse(br#"{"jsonrpc":"2.0","id":7,"params":3}"#).unwrap_err();
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(-32600), &json!(7))
        );
        let e = parse(br#"{"jsonrpc":"2.0","id":"a","method":5}"#).unwrap_err();
        assert_eq!(
            (e["error"]["code"].as_i64(), &e["id"]),
            (Some(-32600), &json!("a"))
        );
        assert_eq!(
            parse(b"[1, 2]").unwrap_err()["error"]["code"].as_i64(),
            Some(-32600)
        );
        assert!(parse(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
    }

    #[test]
    fn an_endless_header_is_cut_at_the_limit() {
        let mut input = vec![b'a'; 3 * MAX_HEADER];
        input.extend(b"\r\n\r\n");
        let got = frames(&input);
        assert!(matches!(&got[0], Frame::Refused(m) if m.contains("header block over")));
    }
}
