//! Errors as data: one variant per mistake, each naming the construct, the values or
//! shapes involved and the source span. [`Error::diagnostic`] turns one into a rustc-style
//! report; `docs/errors.md` lists every code with a snippet that triggers it.

use crate::diag::Diagnostic;
use crate::shape::Shape;
use crate::span::Span;

/// A checking error plus the chain of block calls it happened inside (innermost first).
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// Boxed: errors are rare and `Result<_, Error>` stays small on the happy path.
    pub kind: Box<ErrorKind>,
    /// `(call site, block name)` pairs, innermost first.
    pub trace: Vec<(Span, String)>,
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error {
            kind: Box::new(kind),
            trace: Vec::new(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone, Debug, PartialEq)]
pub enum ErrorKind {
    /// E001 `model m { input [1, 2 }`
    Syntax {
        span: Span,
        expected: String,
        found: String,
    },
    /// E002 `data d = idx(train = "a.gz)`
    UnterminatedString { span: Span },
    /// E003 `let lr = 1e`
    BadNumber {
        span: Span,
        text: String,
        reason: String,
    },
    /// E004 `block b(x: int) { relu` (end of file)
    Unclosed { span: Span, open: Span, delim: char },
    /// E005 `modle m { }`
    UnknownItem {
        span: Span,
        found: String,
        suggestion: Option<String>,
    },
    /// E006 `let x = ((((((…))))))` nested more than 64 deep
    TooDeep { span: Span },
    /// E010 `encoder { conv2 (32, 3) }`
    UnknownLayer {
        span: Span,
        name: String,
        suggestion: Option<String>,
        /// The layers there are, listed in the note.
        known: Vec<&'static str>,
    },
    /// E011 `linear(widht)`
    UnknownName {
        span: Span,
        name: String,
        suggestion: Option<String>,
    },
    /// E012 `latent svd_trunc(k = 2)`
    UnknownLatentOp {
        span: Span,
        name: String,
        suggestion: Option<String>,
        /// The latent operators there are, listed in the note.
        known: Vec<&'static str>,
    },
    /// E013 `conv2d(32, 3, strides = 2)`
    UnknownOption {
        span: Span,
        op: String,
        option: String,
        suggestion: Option<String>,
        allowed: Vec<String>,
    },
    /// E014 `conv2d(32)`
    MissingArgument {
        span: Span,
        op: String,
        param: String,
        ty: String,
    },
    /// E015 `linear(64, true, 3)`
    TooManyArguments {
        span: Span,
        op: String,
        max: usize,
        given: usize,
    },
    /// E016 `linear(64, out = 32)`
    DuplicateArgument {
        span: Span,
        first: Span,
        op: String,
        param: String,
    },
    /// E017 `conv2d(32, 3.5)`
    TypeMismatch {
        span: Span,
        what: String,
        expected: String,
        found: String,
    },
    /// E018 two `block mlp(…)` in one scope
    DuplicateDefinition {
        span: Span,
        first: Span,
        kind: &'static str,
        name: String,
    },
    /// E019 `use cnnn`
    ImportNotFound {
        span: Span,
        target: String,
        reason: String,
        suggestion: Option<String>,
    },
    /// E020 `a.rrae` uses `b.rrae`, which uses `a.rrae`
    ImportCycle { span: Span, cycle: Vec<String> },
    /// E021 `block b() { b }`
    RecursiveBlock { span: Span, chain: Vec<String> },
    /// E022 `conv2d(32, 3, stride = 0)`
    InvalidValue {
        span: Span,
        what: String,
        value: String,
        reason: String,
    },
    /// E023 `train { step = 10 }`
    UnknownSetting {
        span: Span,
        section: &'static str,
        key: String,
        suggestion: Option<String>,
    },
    /// E024 a file with no `model`, or two
    ModelCount { span: Span, first: Option<Span> },
    /// E025 a model without `decoder`, or with two `latent` lines
    Section {
        span: Span,
        section: &'static str,
        first: Option<Span>,
    },
    /// E026 `train { data = mnst }`
    UnknownData {
        span: Span,
        name: String,
        suggestion: Option<String>,
    },
    /// E027 `encoder { svd_truncate(2) }`
    MisplacedOp {
        span: Span,
        name: String,
        found_in: &'static str,
        belongs: &'static str,
    },
    /// E028 `let d = 3 // 0`
    Evaluation { span: Span, reason: String },
    /// E029 `data d = bumps(grid = 64)`
    UnknownDataSource {
        span: Span,
        name: String,
        suggestion: Option<String>,
    },
    /// E030 `conv2d(8, 7)` on a 4×4 input
    KernelTooLarge {
        span: Span,
        layer: String,
        input: Shape,
        axis: usize,
        padded: i64,
        extent: i64,
    },
    /// E031 `conv2d(8, 3)` after `flatten`
    RankMismatch {
        span: Span,
        layer: String,
        expected: &'static str,
        found: Shape,
        help: String,
    },
    /// E032 `reshape([3, 5, 5])` of 64 values
    ReshapeMismatch {
        span: Span,
        from: Shape,
        to: Vec<i64>,
    },
    /// E033 a decoder producing 30×30 for a 28×28 input
    OutputMismatch {
        span: Span,
        produced: Shape,
        expected: Shape,
        input: Span,
        help: String,
        /// When the layer comes from a block call: the block's name and the layer's
        /// span inside it (`span` is then the call in the user's file).
        inside: Option<(String, Span)>,
    },
    /// E034 `svd_truncate(k = 80)` with L = 64
    RankTooLarge {
        span: Span,
        k: i64,
        latent: usize,
        batch: Option<usize>,
        batch_span: Option<Span>,
        /// The training samples, when fewer than `batch` (a batch holds at most them).
        samples: Option<usize>,
    },
    /// E035 an encoder ending in a `[C, H, W]` tensor
    LatentNotVector { span: Span, shape: Shape },
    /// E036 `conv_transpose2d(8, 3, stride = 2, output_padding = 2)`
    OutputPadding {
        span: Span,
        output_padding: i64,
        stride: i64,
        dilation: i64,
    },
    /// E037 `input [1, 28, 28]` with 64×64 bump data
    DataShapeMismatch {
        span: Span,
        data: Span,
        model: Shape,
        data_shape: Shape,
    },
    /// E038 `svd_truncate(k = 2, patience = 100)`
    OptionConflict {
        span: Span,
        op: String,
        option: String,
        reason: String,
    },
    /// E039 `idx(train = "missing.gz")`
    DataFile {
        span: Span,
        path: String,
        reason: String,
    },
    /// E040 `linear(1000000000000)`
    TooLarge { span: Span, what: String },
    /// E041 `latent contractive(beta = 0.1)` after an encoder ending in a conv
    Unsupported {
        span: Span,
        op: String,
        reason: String,
        help: String,
    },
    /// E042 a data file with no samples, or a `split` that leaves a set empty
    EmptyData {
        span: Span,
        /// `training` or `test`.
        set: &'static str,
        reason: String,
        help: String,
    },
    /// E043 `--set train.lr=(3`: a command-line value that is not one expression
    SetValue { span: Span, value: String },
    /// E044 `--set W=3` without `let W`, `--set encoder.x=1`: a path the file has no
    /// place for
    SetPath {
        span: Span,
        path: String,
        reason: String,
        help: String,
    },
}

fn did_you_mean(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| format!("did you mean `{s}`?"))
}

impl Error {
    pub fn with_trace(mut self, trace: &[(Span, String)]) -> Self {
        if self.trace.is_empty() {
            self.trace = trace.iter().rev().cloned().collect();
        }
        self
    }

    /// The stable code, e.g. `"E033"`.
    pub fn code(&self) -> &'static str {
        self.diagnostic().code
    }

    pub fn span(&self) -> Span {
        self.diagnostic().primary
    }

    pub fn diagnostic(&self) -> Diagnostic {
        let mut d = self.kind.diagnostic();
        for (span, block) in &self.trace {
            d = d.secondary(*span, format!("in this call to block `{block}`"));
        }
        d
    }
}

impl ErrorKind {
    pub fn diagnostic(&self) -> Diagnostic {
        use ErrorKind::*;
        let d = |code: &'static str, msg: String, span: Span| Diagnostic::new(code, msg, span);
        match self {
            Syntax { span, expected, found } => d("E001", format!("expected {expected}, found {found}"), *span)
                .label(format!("expected {expected}")),
            UnterminatedString { span } => d("E002", "unterminated string".to_string(), *span)
                .label("this string is never closed")
                .help("close it with `\"` on the same line"),
            BadNumber { span, text, reason } => d("E003", format!("invalid number `{text}`"), *span)
                .label(reason.clone()),
            Unclosed { span, open, delim } => {
                let close = match delim { '(' => ')', '[' => ']', _ => '}' };
                d("E004", format!("unclosed `{delim}`"), *span)
                    .label(format!("the file ends here, expected `{close}`"))
                    .secondary(*open, "opened here")
                    .help(format!("add `{close}` to close it"))
            }
            UnknownItem { span, found, suggestion } => {
                let r = d("E005", format!("expected an item, found `{found}`"), *span)
                    .label("not an item")
                    .note("a file holds `use`, `block`, `let`, `data`, `model`, `train` and `eval` items");
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            TooDeep { span } => d("E006", "nesting too deep".to_string(), *span)
                .label("more than 64 levels of brackets, blocks or chained operators")
                .help("flatten the expression with `let` bindings"),
            UnknownLayer { span, name, suggestion, known } => {
                let r = d("E010", format!("unknown layer or block `{name}`"), *span)
                    .label("not a layer, nor a block in scope")
                    .note(format!("layers: {}; blocks come from `block` items and `use`", known.join(", ")));
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            UnknownName { span, name, suggestion } => {
                let r = d("E011", format!("unknown name `{name}`"), *span)
                    .label("not a constant, parameter or loop variable in scope");
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r.help(format!("define it first with `let {name} = …`")) }
            }
            UnknownLatentOp { span, name, suggestion, known } => {
                let r = d("E012", format!("unknown latent operator `{name}`"), *span)
                    .label("not a latent operator")
                    .note(format!("latent operators: {}", known.join(", ")));
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            UnknownOption { span, op, option, suggestion, allowed } => {
                let r = d("E013", format!("`{op}` has no option `{option}`"), *span)
                    .label("unknown option")
                    .note(if allowed.is_empty() { format!("`{op}` takes no options") } else { format!("`{op}` takes: {}", allowed.join(", ")) });
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            MissingArgument { span, op, param, ty } => d("E014", format!("`{op}` needs `{param}`"), *span)
                .label(format!("missing `{param}` ({ty})"))
                .help(format!("pass it by position or as `{param} = …`")),
            TooManyArguments { span, op, max, given } => d("E015", format!("`{op}` takes at most {max} positional argument{}, {given} given", if *max == 1 { "" } else { "s" }), *span)
                .label("this argument has no parameter")
                .help("remove it, or name the option it was meant for"),
            DuplicateArgument { span, first, op, param } => d("E016", format!("`{param}` is given twice to `{op}`"), *span)
                .label("given again here")
                .secondary(*first, "first given here"),
            TypeMismatch { span, what, expected, found } => d("E017", format!("{what} must be {expected}, found {found}"), *span)
                .label(format!("expected {expected}")),
            DuplicateDefinition { span, first, kind, name } => d("E018", format!("{kind} `{name}` is defined twice"), *span)
                .label("defined again here")
                .secondary(*first, "first defined here")
                .help("rename one of them"),
            ImportNotFound { span, target, reason, suggestion } => {
                let r = d("E019", format!("cannot import `{target}`"), *span).label(reason.clone());
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r.help("stdlib modules are named without quotes (`use cnn`); files are quoted paths relative to the importing file") }
            }
            ImportCycle { span, cycle } => d("E020", "import cycle".to_string(), *span)
                .label("this import closes a cycle")
                .note(format!("cycle: {}", cycle.join(" -> ")))
                .help("move the shared blocks to a third file that both import"),
            RecursiveBlock { span, chain } => d("E021", format!("block `{}` calls itself", chain.last().map_or("", |s| s.as_str())), *span)
                .label("recursive call")
                .note(format!("call chain: {}", chain.join(" -> ")))
                .help("blocks are expanded at check time; use a `for` loop to repeat layers"),
            InvalidValue { span, what, value, reason } => d("E022", format!("invalid {what}: {value}"), *span)
                .label(reason.clone()),
            UnknownSetting { span, section, key, suggestion } => {
                let r = d("E023", format!("`{section}` has no setting `{key}`"), *span)
                    .label("unknown setting")
                    .note(format!("see docs/language.md, section `{section}`, for the settings"));
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            ModelCount { span, first: None } => d("E024", "no model in this file".to_string(), *span)
                .label("expected a `model name { … }` item")
                .help("`rrae check` and `rrae run` need one model; files with only blocks are imported with `use`"),
            ModelCount { span, first: Some(first) } => d("E024", "a file holds one model".to_string(), *span)
                .label("second model")
                .secondary(*first, "first model")
                .help("put each model in its own file"),
            Section { span, section, first: None } => d("E025", format!("the model has no `{section}`"), *span)
                .label(format!("missing `{section}`"))
                .help(match *section {
                    "input" => "add `input [channels, height, width]`",
                    "latent" => "add `latent identity` (a Long AE) or `latent svd_truncate(k = …)` (an RRAE)",
                    _ => "add it as `name { layers }`",
                }),
            Section { span, section, first: Some(first) } => d("E025", format!("`{section}` is given twice"), *span)
                .label("second one")
                .secondary(*first, "first one")
                .help("keep one"),
            UnknownData { span, name, suggestion } => {
                let r = d("E026", format!("no data set named `{name}`"), *span).label("not declared with `data`");
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r.help(format!("declare it: `data {name} = gaussian_bumps()`")) }
            }
            MisplacedOp { span, name, found_in, belongs } => d("E027", format!("`{name}` cannot be used in the {found_in}"), *span)
                .label(format!("`{name}` belongs on the {belongs}"))
                .help(format!("move it to the {belongs}")),
            Evaluation { span, reason } => d("E028", format!("cannot evaluate: {reason}"), *span).label(reason.clone()),
            UnknownDataSource { span, name, suggestion } => {
                let r = d("E029", format!("unknown data source `{name}`"), *span)
                    .label("not a data source")
                    .note("data sources: gaussian_bumps, idx, npy");
                match did_you_mean(suggestion) { Some(h) => r.help(h), None => r }
            }
            KernelTooLarge { span, layer, input, axis, padded, extent } => d("E030", format!("`{layer}` kernel does not fit its input {input}"), *span)
                .label(format!("the kernel spans {extent} along axis {axis} but the padded input is {padded}"))
                .help("use a smaller kernel or dilation, more padding, or fewer downsampling layers before it"),
            RankMismatch { span, layer, expected, found, help } => d("E031", format!("`{layer}` needs {expected}, found {found}"), *span)
                .label(format!("input here is {found}"))
                .help(help.clone()),
            ReshapeMismatch { span, from, to } => {
                let to_s = format!("[{}]", to.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "));
                d("E032", format!("cannot reshape {from} ({} values) to {to_s}", from.numel()), *span)
                    .label(format!("{to_s} holds {} values", to.iter().product::<i64>()))
                    .help(format!("the target shape must hold exactly {} values", from.numel()))
            }
            OutputMismatch { span, produced, expected, input, help, inside } => {
                let diag = d("E033", format!("the decoder produces {produced} but the input is {expected}"), *span);
                let diag = match inside {
                    Some((block, layer)) => diag
                        .label(format!("this call to `{block}` makes the output {produced}"))
                        .secondary(*input, format!("the input is {expected}"))
                        .secondary(*layer, format!("the last layer of `{block}`")),
                    None => diag
                        .label(format!("this layer makes the output {produced}"))
                        .secondary(*input, format!("the input is {expected}")),
                };
                diag.note("an autoencoder's decoder must reproduce the input's shape")
                    .help(help.clone())
            }
            RankTooLarge { span, k, latent, batch, batch_span, samples } => {
                let (msg, limit) = match (batch, samples) {
                    (Some(b), Some(n)) => {
                        let limit = *latent.min(b).min(n);
                        (format!("rank k = {k} exceeds min(L, batch, training samples) = min({latent}, {b}, {n}) = {limit}"), limit)
                    }
                    (Some(b), None) => (format!("rank k = {k} exceeds min(L, batch) = min({latent}, {b}) = {}", latent.min(b)), *latent.min(b)),
                    (None, _) => (format!("rank k = {k} exceeds the latent length L = {latent}"), *latent),
                };
                let r = d("E034", msg, *span)
                    .label(format!("k = {k}"))
                    .note("the truncated SVD of an L × batch latent matrix has at most min(L, batch) modes")
                    .help(match samples {
                        Some(n) => format!("use k ≤ {limit}, or more training data: a batch holds at most the {n} training samples"),
                        None => format!("use k ≤ {limit}, or a longer latent space / a larger batch"),
                    });
                match batch_span { Some(b) => r.secondary(*b, format!("batch = {}", batch.unwrap_or(0))), None => r }
            }
            LatentNotVector { span, shape } => d("E035", format!("the encoder must end in a vector, found {shape}"), *span)
                .label(format!("the encoder's output is {shape}"))
                .help(format!("end the encoder with `flatten` and `linear(L)` ({} values after flatten)", shape.numel())),
            OutputPadding { span, output_padding, stride, dilation } => d("E036", format!("output_padding = {output_padding} must be smaller than stride ({stride}) or dilation ({dilation})"), *span)
                .label("output_padding too large")
                .help(format!("use output_padding < {}", stride.max(dilation))),
            DataShapeMismatch { span, data, model, data_shape } => d("E037", format!("the model's input is {model} but the data's samples are {data_shape}"), *span)
                .label(format!("model input {model}"))
                .secondary(*data, format!("samples here are {data_shape}"))
                .help(format!("write `input {data_shape}` and adapt the layers")),
            OptionConflict { span, op, option, reason } => d("E038", format!("`{option}` does not apply to this `{op}`"), *span)
                .label(reason.clone()),
            DataFile { span, path, reason } => d("E039", format!("cannot read data file `{path}`"), *span)
                .label(reason.clone())
                .help("paths are relative to the .rrae file; IDX (optionally .gz), .npy, PNG/JPEG image folders and their label or partition text files are read"),
            TooLarge { span, what } => d("E040", format!("{what} is too large"), *span)
                .label("the size overflows or exceeds 2^40 elements"),
            Unsupported { span, op, reason, help } => d("E041", format!("`{op}` is not supported here: {reason}"), *span)
                .label("unsupported for this encoder")
                .help(help.clone()),
            SetValue { span, value } => d("E043", format!("`{value}` is not a value"), *span)
                .label("not one expression")
                .help("a number, a string in quotes, a list, a name, or a call such as `svd_truncate(k = 4)` (quote the whole --set for your shell)"),
            SetPath { span, path, reason, help } => d("E044", format!("--set cannot change `{path}`: {reason}"), *span)
                .label("this path")
                .help(help.clone()),
            EmptyData { span, set, reason, help } => d("E042", format!("the {set} set has no samples"), *span)
                .label(reason.clone())
                .help(help.clone()),
        }
    }
}
