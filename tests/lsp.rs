//! `rrae lsp` driven by a JSON-RPC client over its stdin and stdout, as an editor
//! drives it: open a document, edit it into an error and back (diagnostics arrive with
//! each edit, before anything else), hover on a layer (the shape and parameter count
//! `rrae check` prints), go to a block's definition, complete a name, shut down.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const MODEL: &str = "\
block widen(n: int) {
    linear(n)
    relu
}

data bumps = gaussian_bumps(grid = 16, train_per_axis = 4, test = 4)

model probe {
    input [1, 16, 16]
    encoder {
        conv2d(8, 3, stride = 2, padding = 1)
        relu
        flatten
        widen(32)
        linear(16)
    }
    latent svd_truncate(k = 2)
    decoder {
        linear(256)
        reshape([1, 16, 16])
    }
}
";

/// Where the server writes the standard library out for go-to-definition.
fn cache_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rrae-lsp-cache-{}", std::process::id()))
}

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    done: Arc<AtomicBool>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rrae"))
            .arg("lsp")
            .env("XDG_CACHE_HOME", cache_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rrae lsp: {e}")); // ok: test
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            panic!("no pipes to rrae lsp"); // ok: test
        };
        // A server that stops answering fails the test instead of hanging it (the
        // watchdog stands down once the session has ended).
        let (pid, done) = (child.id(), Arc::new(AtomicBool::new(false)));
        let watched = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(120));
            if !watched.load(Ordering::SeqCst) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        });
        Client {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            next_id: 1,
            done,
        }
    }

    /// A started server past the initialize handshake (its capabilities checked).
    fn initialized() -> Client {
        let mut c = Client::start();
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert_eq!(init["capabilities"]["hoverProvider"], json!(true), "{init}");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.stdin
            .write_all(frame.as_bytes())
            .and_then(|_| self.stdin.flush())
            .unwrap_or_else(|e| panic!("cannot write to rrae lsp: {e}")); // ok: test
    }

    fn receive(&mut self) -> Value {
        let mut len = None;
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).unwrap_or(0);
            assert!(n > 0, "rrae lsp closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = v.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; len.unwrap_or_else(|| panic!("a frame without a length"))]; // ok: test
        self.stdout
            .read_exact(&mut body)
            .unwrap_or_else(|e| panic!("short frame: {e}")); // ok: test
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON: {e}"))
        // ok: test
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its result (no other message may come first).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let reply = self.receive();
        assert_eq!(
            reply["id"],
            json!(id),
            "expected the reply to {method}: {reply}"
        );
        reply["result"].clone()
    }

    /// The diagnostics published right after an open or an edit.
    fn diagnostics(&mut self) -> Vec<Value> {
        let msg = self.receive();
        assert_eq!(
            msg["method"], "textDocument/publishDiagnostics",
            "expected diagnostics, got {msg}"
        );
        msg["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn position_of(text: &str, needle: &str, plus: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in the model"))
        + plus; // ok: test
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col})
}

#[test]
fn an_editor_session() {
    let dir = std::env::temp_dir().join(format!("rrae-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let path = dir.join("probe.rrae");
    std::fs::write(&path, MODEL).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let uri = format!("file://{}", path.display());
    let doc = json!({"uri": uri});

    let mut c = Client::initialized();

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rrae", "version": 1, "text": MODEL}}),
    );
    assert_eq!(
        c.diagnostics(),
        Vec::<Value>::new(),
        "a valid model has no diagnostics"
    );

    // An edit that breaks a shape: the diagnostic comes with the edit, on its line.
    let broken = MODEL.replace("reshape([1, 16, 16])", "reshape([1, 16, 15])");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    let d = c.diagnostics();
    assert_eq!(d.len(), 1, "{d:?}");
    let line = broken[..broken.find("reshape").unwrap_or(0)]
        .matches('\n')
        .count(); // ok: test
    assert_eq!(d[0]["range"]["start"]["line"], json!(line), "{:?}", d[0]);
    assert!(
        d[0]["code"].as_str().is_some_and(|c| c.starts_with('E')),
        "{:?}",
        d[0]
    );
    assert_eq!(d[0]["source"], "rrae");

    // And back: the diagnostic goes away with the next edit.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": MODEL}]}),
    );
    assert_eq!(c.diagnostics(), Vec::<Value>::new());

    // Hover on the conv layer: the line `rrae check` prints for it.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": doc, "position": position_of(MODEL, "conv2d(8", 2)}),
    );
    let text = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let check = Command::new(env!("CARGO_BIN_EXE_rrae"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    let printed = String::from_utf8_lossy(&check.stdout);
    let conv_line = printed
        .lines()
        .find(|l| l.contains("conv2d("))
        .unwrap_or_else(|| panic!("no conv2d line in:\n{printed}")); // ok: test
    let shape_and_params = conv_line.rsplit(" : ").next().unwrap_or_default().trim();
    assert_eq!(shape_and_params, "[8, 8, 8]  params 80", "{conv_line}");
    assert!(
        text.contains(&format!(": {shape_and_params}")),
        "hover {text:?}"
    );

    // Hover on a block call lists what it expanded to.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": doc, "position": position_of(MODEL, "widen(32)", 1)}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("block `widen`: 2 layers") && text.contains("linear(out=32)"),
        "{text}"
    );

    // Hover on a builtin that is not a layer of the model (the data source): its
    // signature with defaults, from the catalog.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": doc, "position": position_of(MODEL, "gaussian_bumps", 3)}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.starts_with("```\ngaussian_bumps(grid = 64,"), "{text}");
    assert!(text.contains("- `sigma`:"), "{text}");

    // Go to definition of the block.
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": doc, "position": position_of(MODEL, "widen(32)", 2)}),
    );
    assert_eq!(def["uri"], json!(uri), "{def}");
    assert_eq!(
        def["range"]["start"],
        json!({"line": 0, "character": 6}),
        "{def}"
    );

    // Completion offers what may be written where the cursor is: layers and blocks in
    // an encoder (no latent operator, data source or setting), operators on the
    // latent line.
    let labels_at = |c: &mut Client, needle: &str, plus: usize| -> Vec<String> {
        let items = c.request(
            "textDocument/completion",
            json!({"textDocument": doc, "position": position_of(MODEL, needle, plus)}),
        );
        items
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["label"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let labels = labels_at(&mut c, "relu\n        flatten", 0);
    for want in ["conv2d", "cnn_encoder", "widen"] {
        assert!(
            labels.iter().any(|l| l == want),
            "{want} not offered: {labels:?}"
        );
    }
    for not in ["svd_truncate", "gaussian_bumps", "fine_tune_steps"] {
        assert!(
            !labels.iter().any(|l| l == not),
            "{not} offered in an encoder: {labels:?}"
        );
    }
    let labels = labels_at(&mut c, "svd_truncate", 3);
    assert!(
        labels.iter().any(|l| l == "svd_truncate") && !labels.iter().any(|l| l == "conv2d"),
        "{labels:?}"
    );
    let labels = labels_at(&mut c, "gaussian_bumps", 3);
    assert!(
        labels.iter().any(|l| l == "gaussian_bumps") && !labels.iter().any(|l| l == "relu"),
        "{labels:?}"
    );

    // Go to definition enters the standard library: the block in the module's text,
    // written out where the editor can open it.
    let std_path = dir.join("std.rrae");
    let std_text = "use cnn\nmodel s {\n    input [1, 16, 16]\n    encoder { cnn_encoder(latent = 8) }\n    latent identity\n    decoder { cnn_decoder(out = [1, 16, 16]) }\n}\n";
    std::fs::write(&std_path, std_text).unwrap_or_else(|e| panic!("{e}")); // ok: test
    let std_uri = format!("file://{}", std_path.display());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": std_uri, "languageId": "rrae", "version": 1, "text": std_text}}),
    );
    let _ = c.diagnostics();
    let def = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": std_uri}, "position": position_of(std_text, "cnn_encoder", 3)}),
    );
    let target = def["uri"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("file://")
        .to_string();
    assert!(
        target.ends_with("/cnn.rrae") && target.contains("/rrae/stdlib/"),
        "{def}"
    );
    let written = std::fs::read_to_string(&target).unwrap_or_else(|e| panic!("{target}: {e}")); // ok: test
    let line = def["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX) as usize;
    assert!(
        written
            .lines()
            .nth(line)
            .is_some_and(|l| l.starts_with("block cnn_encoder")),
        "line {line} of {target}"
    );

    assert_eq!(c.request("shutdown", json!(null)), json!(null));
    c.notify("exit", json!(null));
    let status = c.child.wait().unwrap_or_else(|e| panic!("{e}")); // ok: test
    c.done.store(true, Ordering::SeqCst);
    assert!(status.success(), "rrae lsp exited with {status}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(cache_dir());
}

/// A hostile client (issue 40, finding 3): a length of 2^64 − 1 for a two-byte body, a
/// length that is not a number, bodies that are not JSON or not UTF-8, and JSON that is
/// not a message.
/// Each gets a JSON-RPC error reply (−32700 or −32600), nothing is allocated for a
/// length, the server keeps serving, and a document that `use`s /dev/zero is a
/// diagnostic, not a hang.
#[test]
fn malformed_frames_get_error_replies_and_the_server_goes_on() {
    let mut c = Client::initialized();
    let raw = |c: &mut Client, bytes: &[u8]| {
        c.stdin
            .write_all(bytes)
            .and_then(|_| c.stdin.flush())
            .unwrap_or_else(|e| panic!("{e}")); // ok: test
    };
    let error_reply = |c: &mut Client, code: i64, says: &str| {
        let r = c.receive();
        assert_eq!(r["error"]["code"], json!(code), "{r}");
        let m = r["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains(says), "{r}");
    };
    // Lengths far past what follows are read past, not allocated: the last ends the
    // stream's use for framing, so it comes last; before it, bodies of the claimed size.
    for body in [
        &b"not json"[..],
        b"\xff\xfe\x00{",
        b"{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\": 3}",
    ] {
        raw(
            &mut c,
            format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
        );
        raw(&mut c, body);
    }
    error_reply(&mut c, -32700, "not JSON");
    error_reply(&mut c, -32700, "not JSON");
    error_reply(&mut c, -32600, "`method` is a string");
    raw(&mut c, b"Content-Length: 12abc\r\n\r\n");
    error_reply(&mut c, -32700, "is not a byte count");
    // Still serving: a document that uses a device is a diagnostic.
    let text = format!("use \"/dev/zero\"\n{MODEL}");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": "file:///tmp/rrae-lsp-zero.rrae", "languageId": "rrae", "version": 1, "text": text}}),
    );
    let d = c.diagnostics();
    assert!(
        d.iter().any(|d| d["message"]
            .as_str()
            .is_some_and(|m| m.contains("is a device, not a regular file"))),
        "{d:?}"
    );
    // The largest length last: 2^64 − 1 claims more than the stream will ever hold (the
    // other huge lengths are lsp_frame's unit tests); the server answers once the
    // stream ends inside the body, and exits 0.
    raw(&mut c, b"Content-Length: 18446744073709551615\r\n\r\n{}");
    c.stdin.flush().ok();
    let Client {
        mut child,
        stdin,
        mut stdout,
        done,
        ..
    } = c;
    drop(stdin);
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .unwrap_or_else(|e| panic!("{e}")); // ok: test
    assert!(
        rest.contains("-32700") && rest.contains("over the 64 MiB limit"),
        "{rest}"
    );
    let status = child.wait().unwrap_or_else(|e| panic!("{e}")); // ok: test
    done.store(true, Ordering::SeqCst);
    assert!(status.success(), "rrae lsp exited with {status}");
}

/// The editor grammar colours every layer, latent operator and data source the
/// language knows: a name added to the catalog fails this until the grammar has it.
#[test]
fn the_textmate_grammar_knows_every_builtin() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../editors/rrae.tmLanguage.json"
    );
    let grammar = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}")); // ok: test
    let _: Value = serde_json::from_str(&grammar).unwrap_or_else(|e| panic!("{e}")); // ok: test
    use rrae_lang::catalog::{DATA_SOURCES, LATENT_OPS, LAYERS};
    for op in LAYERS.iter().chain(LATENT_OPS).chain(DATA_SOURCES) {
        let word = format!("|{}|", op.name);
        let alternation = grammar.replace(r"\\b(", "|").replace(r")\\b", "|");
        assert!(
            alternation.contains(&word),
            "the grammar does not colour `{}`",
            op.name
        );
    }
}
