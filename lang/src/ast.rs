//! The syntax tree of one `.rrae` file, exactly as written (before name resolution).
//! Every node keeps its [`Span`] so later passes can point back at the source.

use crate::span::{FileId, Span};

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A parsed file: its items in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `use cnn` (a stdlib module) or `use "blocks.rrae"` (a file next to this one).
    Use(Use),
    /// `block name(p: int = 1) { … }`
    Block(BlockDef),
    /// `let L = 64` — a file-level constant.
    Let(Let),
    /// `data bumps = gaussian_bumps(grid = 64)`
    Data(DataDecl),
    /// `model rrae { input […] encoder {…} latent op decoder {…} }`
    Model(ModelDef),
    /// `train { steps = 2000 … }`
    Train(Settings),
    /// `eval { random_samples = 250 … }`
    Eval(Settings),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub target: UseTarget,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UseTarget {
    Stdlib(Ident),
    File { path: String, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlockDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// A typed block parameter: `stride: int = 2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeAnn,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeAnn {
    pub ty: Ty,
    pub span: Span,
}

/// The types a block parameter can declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    List,
}

impl Ty {
    pub const ALL: [(&'static str, Ty); 5] = [
        ("int", Ty::Int),
        ("float", Ty::Float),
        ("bool", Ty::Bool),
        ("str", Ty::Str),
        ("list", Ty::List),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Str => "str",
            Ty::List => "list",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub name: Ident,
    pub source: Call,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelDef {
    pub name: Ident,
    pub sections: Vec<Section>,
    pub span: Span,
}

/// One line or block inside `model { … }`.
#[derive(Clone, Debug, PartialEq)]
pub enum Section {
    Input { shape: Expr, span: Span },
    Encoder { body: Vec<Stmt>, span: Span },
    Latent { op: Call, span: Span },
    Decoder { body: Vec<Stmt>, span: Span },
}

impl Section {
    pub fn keyword(&self) -> &'static str {
        match self {
            Section::Input { .. } => "input",
            Section::Encoder { .. } => "encoder",
            Section::Latent { .. } => "latent",
            Section::Decoder { .. } => "decoder",
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Section::Input { span, .. }
            | Section::Encoder { span, .. }
            | Section::Latent { span, .. }
            | Section::Decoder { span, .. } => *span,
        }
    }
}

/// `train { key = value … }` or `eval { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub entries: Vec<Setting>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub value: Expr,
    pub span: Span,
}

/// A statement of a layer sequence (encoder, decoder or block body).
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let d = convt_in(64, 3)`
    Let(Let),
    /// `for w in widths { conv2d(w, 3) relu }`
    For(For),
    /// `conv2d(32, 3, stride = 2)`, `relu`, or a block call.
    Layer(Call),
}

#[derive(Clone, Debug, PartialEq)]
pub struct For {
    pub var: Ident,
    pub iter: Expr,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `name(args)`, or a bare `name` (then `args` is empty and `parens` false).
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub parens: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// A name: a constant, a parameter, a loop variable, or a symbol such as `adaptive`.
    Name(String),
    List(Vec<Expr>),
    Call(Call),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Integer (floor) division: `a // b`.
    FloorDiv,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Rem => "%",
        }
    }
}
