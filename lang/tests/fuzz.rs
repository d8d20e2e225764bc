//! The parser and checker never panic: random bytes, random token soups and random
//! mutations of every `models/` and `examples/` file (100k+ cases) must each end in
//! `Ok` or a rendered diagnostic whose location is inside the source.

use rrae_lang::MemLoader;
use std::path::Path;

/// xorshift64*: a tiny seeded generator, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
    "1e-3",
    "1e",
    "0.5",
    "99999999999999999999",
    "true",
    "x",
    "k",
    "adaptive",
    "conv2d",
    "conv_transpose2d",
    "linear",
    "flatten",
    "reshape",
    "relu",
    "svd_truncate",
    "identity",
    "cnn",
    "cnn_encoder",
    "cnn_decoder",
    "gaussian_bumps",
    "int",
    "list",
    "stride",
    "padding",
    "output_padding",
    "out",
    "kernel",
    "batch",
    "steps",
    "[1, 8, 8]",
    "é",
    "\u{0}",
];

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["models", "examples", "stdlib"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "rrae") {
                out.push(std::fs::read_to_string(f).unwrap());
            }
        }
    }
    out
}

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut s: Vec<u8> = base.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 if !s.is_empty() => {
                let end = (at + 1 + rng.below(12)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                s.splice(at..at, t.bytes());
            }
            2 if !s.is_empty() => {
                let i = at.min(s.len() - 1);
                s[i] = (rng.next() & 0x7f) as u8;
            }
            3 if !s.is_empty() => {
                // Duplicate a slice: repeats items, brackets and arguments.
                let start = at.min(s.len() - 1);
                let end = (start + rng.below(40)).min(s.len());
                let piece: Vec<u8> = s[start..end].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, piece);
            }
            4 => {
                // A number somewhere: sizes, ranks and strides of every magnitude.
                let n = [0i64, 1, 2, 3, 7, 64, 65, 1 << 20, 1 << 40, -1][rng.below(10)].to_string();
                s.splice(at..at, n.bytes());
            }
            _ => s.truncate(at),
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// Checks one source; returns whether the checker accepted it.
fn check_one(src: &str, loader: &MemLoader) -> bool {
    let out = rrae_lang::check_with("fuzz.rrae", src, loader);
    if let Err(e) = &out.result {
        let rendered = e.diagnostic().render(&out.sources);
        assert!(rendered.starts_with("error[E"), "{rendered}");
        let d = e.diagnostic();
        let file = out
            .sources
            .get(d.primary.file)
            .expect("the span's file is known");
        assert!(
            d.primary.start as usize <= file.text.len()
                && d.primary.end as usize <= file.text.len(),
            "span inside the source"
        );
    }
    // The formatter must never panic either, and must be idempotent on what it accepts.
    if let Ok(f) = rrae_lang::fmt::format("fuzz.rrae", src) {
        let again = rrae_lang::fmt::format("fuzz.rrae", &f).expect("formatted output parses");
        assert_eq!(f, again, "fmt is idempotent for:\n{src}");
    }
    out.result.is_ok()
}

#[test]
fn random_inputs_never_panic() {
    let corpus = corpus();
    let loader =
        MemLoader::default().with("blocks.rrae", "block b(x: int = 2) { linear(x) relu }\n");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (mut cases, mut accepted) = (0usize, 0usize);
    // Mutations of real files: the bulk of the cases, since they reach deep into checking.
    for _ in 0..90_000 {
        let base = &corpus[rng.below(corpus.len())];
        let src = mutate(&mut rng, base);
        accepted += usize::from(check_one(&src, &loader));
        cases += 1;
    }
    // Token soups and raw bytes.
    for _ in 0..10_000 {
        let src = if rng.below(2) == 0 {
            (0..rng.below(60))
                .map(|_| TOKENS[rng.below(TOKENS.len())])
                .collect::<Vec<_>>()
                .join(if rng.below(2) == 0 { " " } else { "" })
        } else {
            let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        accepted += usize::from(check_one(&src, &loader));
        cases += 1;
    }
    // The mutations must reach past the parser: a fuzz whose every case failed early
    // would test nothing of resolution and shape inference.
    assert!(
        accepted > cases / 50 && accepted < cases / 2,
        "{accepted} of {cases} cases checked: the mutations are too mild or too harsh"
    );
}
