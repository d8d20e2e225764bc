//! The fuzz campaign's targets and mutators (`cargo run --release -p rrae-fuzz`,
//! docs/fuzzing.md). cargo-fuzz needs a nightly compiler; this harness runs on stable:
//! seeded mutations of a corpus, each input run under `catch_unwind`, and any panic
//! saved as a reproducer. `tests/corpus.rs` replays the kept corpus in every test run.

use std::path::{Path, PathBuf};

/// xorshift64*: seeded, so a campaign can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// What is fuzzed: each takes bytes and must return (any result) without panicking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Parser → resolution → shape inference → IR, and the formatter.
    Check,
    /// The `.npy` reader (header, size checks, decoding).
    Npy,
    /// The IDX reader, plain or gzip'd.
    Idx,
    /// `rrae_artifact::View::open` and `open_unverified`, then a forward pass.
    Artifact,
    /// `Checkpoint::from_bytes`.
    Checkpoint,
    /// `rrae lsp`'s framing and message parsing (`runtime/cli/src/lsp_frame.rs`).
    Lsp,
}

pub const TARGETS: [Target; 6] = [
    Target::Check,
    Target::Npy,
    Target::Idx,
    Target::Artifact,
    Target::Checkpoint,
    Target::Lsp,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Check => "check",
            Target::Npy => "npy",
            Target::Idx => "idx",
            Target::Artifact => "artifact",
            Target::Checkpoint => "checkpoint",
            Target::Lsp => "lsp",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        TARGETS.into_iter().find(|t| t.name() == name)
    }

    /// Runs one input. File readers get it through `scratch`, a file of theirs.
    pub fn run(self, input: &[u8], scratch: &Path) {
        match self {
            Target::Check => {
                check(&String::from_utf8_lossy(input));
            }
            Target::Npy => {
                let p = scratch.with_extension("npy");
                if std::fs::write(&p, input).is_ok() {
                    let _ = rrae_engine::files::read_npy(&p);
                    let _ = rrae_lang::probe::npy_file(&p);
                }
            }
            Target::Idx => {
                // Odd inputs as gzip streams, even ones as plain files.
                let gz = input.first().is_some_and(|b| b & 1 == 1);
                let p = scratch.with_extension(if gz { "gz" } else { "idx" });
                if std::fs::write(&p, input).is_ok() {
                    let _ = rrae_engine::files::read_idx(&p);
                    let _ = rrae_lang::probe::idx_file(&p);
                }
            }
            Target::Artifact => {
                let m = rrae_artifact::Mapped::from_bytes(input);
                for v in [
                    rrae_artifact::View::open(m.bytes()),
                    rrae_artifact::View::open_unverified(m.bytes()),
                ]
                .into_iter()
                .flatten()
                {
                    let x = vec![0.5f32; v.input_len().min(1 << 20)];
                    let _ = v.reconstruct(&x);
                    let _ = v.sample(1, &mut rrae_artifact::Rng::new(1));
                }
            }
            Target::Checkpoint => {
                let _ = rrae_train::checkpoint::Checkpoint::from_bytes(input);
            }
            Target::Lsp => lsp(input),
        }
    }
}

/// `rrae lsp`'s transport, compiled from the server's own file.
#[path = "../../runtime/cli/src/lsp_frame.rs"]
#[allow(dead_code)] // the server's constants and tests
pub mod lsp_frame;

/// A byte stream as `rrae lsp` reads it: every frame, each body parsed, and every reply
/// written back; a frame must never be longer than the limit, and a reply must be a
/// JSON-RPC error.
fn lsp(input: &[u8]) {
    use lsp_frame::{parse, read_frame, write, Frame};
    let mut r = std::io::BufReader::new(input);
    let mut out = Vec::new();
    // Every frame consumes input, so this ends; the bound only caps a pathological one.
    for _ in 0..input.len() + 1 {
        match read_frame(&mut r) {
            Ok(Frame::Body(body)) => {
                assert!(body.len() as u64 <= lsp_frame::MAX_MESSAGE);
                if let Err(reply) = parse(&body) {
                    assert!(reply["error"]["code"].is_i64());
                    let _ = write(&mut out, &reply);
                }
            }
            Ok(Frame::Refused(why)) => {
                let _ = write(
                    &mut out,
                    &lsp_frame::error(serde_json::Value::Null, -32700, &why),
                );
            }
            Ok(Frame::End) | Err(_) => return,
        }
    }
}

/// The checker and the formatter on one source; a rendered diagnostic must start
/// with its code and point inside the source. Returns whether the checker accepted it.
pub fn check(src: &str) -> bool {
    let loader = rrae_lang::MemLoader::default()
        .with("blocks.rrae", "block b(x: int = 2) { linear(x) relu }\n");
    let out = rrae_lang::check_with("fuzz.rrae", src, &loader);
    if let Err(e) = &out.result {
        let d = e.diagnostic();
        let rendered = d.render(&out.sources);
        assert!(rendered.starts_with("error[E"), "{rendered}");
        if let Some(file) = out.sources.get(d.primary.file) {
            assert!(
                d.primary.end as usize <= file.text.len(),
                "span outside the source"
            );
        }
    }
    if let Ok(f) = rrae_lang::fmt::format("fuzz.rrae", src) {
        let again = rrae_lang::fmt::format("fuzz.rrae", &f);
        assert!(
            again.as_deref() == Ok(f.as_str()),
            "fmt is not idempotent:\n{src}"
        );
    }
    out.result.is_ok()
}

/// Tokens the `.rrae` mutator inserts.
const TOKENS: &[&str] = &[
    "model",
    "block",
    "use",
    "let",
    "data",
    "train",
    "eval",
    "for",
    "in",
    "input",
    "encoder",
    "latent",
    "decoder",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    ":",
    ";",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "#",
    "\"",
    "\n",
    " ",
    "0",
    "1",
    "64",
    "-3",
    "1e308",
    "0.5",
    "1000000000",
    "conv2d",
    "conv_transpose2d",
    "linear",
    "flatten",
    "reshape",
    "relu",
    "svd_truncate",
    "adaptive",
    "k",
    "batch",
    "steps",
    "idx",
    "npy",
    "gaussian_bumps",
    "split",
    "[0]",
];

/// One mutation of `base`: byte edits for every target, token edits for `.rrae`, and
/// splices from `other` (another corpus entry).
pub fn mutate(rng: &mut Rng, base: &[u8], other: &[u8], text: bool) -> Vec<u8> {
    let mut s = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(8) {
            0 if !s.is_empty() => {
                let end = (at + 1 + rng.below(12)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 if text => {
                let t = TOKENS[rng.below(TOKENS.len())];
                s.splice(at..at, t.bytes());
            }
            2 if !s.is_empty() => {
                let i = at.min(s.len() - 1);
                s[i] ^= 1 << rng.below(8);
            }
            3 if !s.is_empty() => {
                let start = at.min(s.len() - 1);
                let end = (start + rng.below(40)).min(s.len());
                let piece: Vec<u8> = s[start..end].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, piece);
            }
            4 => {
                // A number: sizes, counts and offsets of every magnitude.
                let n =
                    [0u64, 1, 2, 7, 64, 255, 1 << 16, 1 << 31, 1 << 40, u64::MAX][rng.below(10)];
                if text {
                    s.splice(at..at, n.to_string().bytes());
                } else {
                    let end = (at + 8).min(s.len());
                    let bytes = n.to_le_bytes();
                    s.splice(at..end, bytes[..end - at].iter().copied());
                }
            }
            5 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(64)).min(other.len());
                s.splice(at..at, other[start..end].iter().copied());
            }
            6 if !s.is_empty() => {
                let i = at.min(s.len() - 1);
                s[i] = rng.next_u64() as u8;
            }
            _ => s.truncate(at),
        }
    }
    s
}

/// The kept corpus of a target: `fuzz/corpus/<target>/*`, sorted.
pub fn corpus(target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target.name());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}
