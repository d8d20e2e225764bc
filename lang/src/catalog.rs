//! Every builtin the language knows: layers, latent operators, data sources and the
//! `train` / `eval` settings, with their parameters, defaults and one-line docs.
//! Layers and latent operators are declared with their definitions (`crate::layer`,
//! `crate::latent`) and gathered here. `docs/language.md` describes the same tables.

use crate::signature::{p, ArgTy::*, Dflt as D, OpSpec, ParamSpec};

/// The layers of encoder and decoder sequences, one row per definition in
/// [`crate::layer`].
pub use crate::layer::LAYERS;

/// The latent operators of the `latent` line, one row per definition in [`crate::latent`].
pub use crate::latent::LATENT_OPS;

pub const NORMALIZE: &[&str] = &["standardize", "minmax", "none"];
pub const CROP: &[&str] = &["centre", "none"];

/// The options of the file-backed sources (`idx`, `npy`).
const fn file_params(train_doc: &'static str, normalize: &'static str) -> [ParamSpec; 8] {
    [
        p("train", Str, D::Required, train_doc),
        p(
            "test",
            Str,
            D::Absent,
            "test file of the same format (else `split` of train)",
        ),
        p(
            "limit_train",
            Int,
            D::Absent,
            "use only the first n training samples",
        ),
        p(
            "limit_test",
            Int,
            D::Absent,
            "use only the first n test samples",
        ),
        p(
            "split",
            Float,
            D::Absent,
            "fraction of train held out as the test set when there is no test file (0.2)",
        ),
        p(
            "params_train",
            Str,
            D::Absent,
            ".npy of each training sample's parameters, [N] or [N, P]",
        ),
        p(
            "params_test",
            Str,
            D::Absent,
            ".npy of each test sample's parameters (with a `test` file)",
        ),
        p(
            "normalize",
            Word(NORMALIZE),
            D::Word(normalize),
            "standardize | minmax | none",
        ),
    ]
}

/// The sources of `data` declarations.
pub const DATA_SOURCES: &[OpSpec] = &[
    OpSpec {
        name: "gaussian_bumps",
        params: &[
            p(
                "grid",
                Int,
                D::Int(64),
                "pixels per side of the [-extent, extent]² grid",
            ),
            p(
                "train_per_axis",
                Int,
                D::Int(20),
                "training centres per axis (an equidistant grid)",
            ),
            p(
                "test",
                Int,
                D::Int(100),
                "test samples with uniformly drawn centres",
            ),
            p("sigma", Float, D::Float(0.2), "width σ of the bump"),
            p(
                "extent",
                Float,
                D::Float(1.0),
                "the grid spans [-extent, extent]",
            ),
            p(
                "centres",
                Float,
                D::Float(0.5),
                "centres lie in [-centres, centres]²",
            ),
            p("seed", Int, D::Int(0), "seed of the test centres"),
            p(
                "normalize",
                Word(NORMALIZE),
                D::Word("standardize"),
                "standardize | minmax | none, from training statistics",
            ),
        ],
        positional: 0,
        doc: "the paper's synthetic 2-D Gaussian bumps, [1, grid, grid]",
    },
    OpSpec {
        name: "idx",
        params: &file_params(
            "IDX or IDX.gz images, e.g. MNIST's train-images-idx3-ubyte.gz",
            "minmax",
        ),
        positional: 1,
        doc: "IDX image files as MNIST ships them, [1, H, W]",
    },
    OpSpec {
        name: "npy",
        params: &file_params(".npy array, samples along the first axis", "standardize"),
        positional: 1,
        doc: "a NumPy array file; each sample is a [C, H, W], [C, N] or [N] slice",
    },
    OpSpec {
        name: "images",
        params: &[
            p(
                "train",
                Str,
                D::Required,
                "folder of .png/.jpg images, e.g. CelebA's img_align_celeba",
            ),
            p(
                "test",
                Str,
                D::Absent,
                "folder of test images (else `partition`, else `split` of train)",
            ),
            p(
                "partition",
                Str,
                D::Absent,
                "CelebA's list_eval_partition.txt: split 0 trains, 2 tests, 1 is left out",
            ),
            p(
                "size",
                Int,
                D::Absent,
                "crop (see `crop`) and resize every image to size × size",
            ),
            p(
                "crop",
                Word(CROP),
                D::Word("centre"),
                "centre: the central square, then resize | none: resize the whole image",
            ),
            p("channels", Int, D::Int(3), "3 (RGB) or 1 (grey)"),
            p(
                "labels",
                Str,
                D::Absent,
                "class labels for the local FID: `name label` lines, or CelebA's list_attr_celeba.txt with `label`",
            ),
            p(
                "label",
                Str,
                D::Absent,
                "the attribute of a CelebA attribute file used as the class (e.g. Smiling)",
            ),
            p(
                "cache",
                Bool,
                D::Bool(true),
                "keep the decoded images in .rrae-cache/ beside the model file",
            ),
            p(
                "limit_train",
                Int,
                D::Absent,
                "use only the first n training images",
            ),
            p(
                "limit_test",
                Int,
                D::Absent,
                "use only the first n test images",
            ),
            p(
                "split",
                Float,
                D::Absent,
                "fraction of train held out as the test set without `test` or `partition` (0.2)",
            ),
            p(
                "normalize",
                Word(NORMALIZE),
                D::Word("minmax"),
                "standardize | minmax | none",
            ),
        ],
        positional: 1,
        doc: "a folder of PNG/JPEG images (CelebA's layout), [channels, H, W]",
    },
];

/// The `train { … }` settings.
pub const TRAIN: OpSpec = OpSpec {
    name: "train",
    params: &[
        p(
            "data",
            DataRef,
            D::Absent,
            "the data set (default: the only `data` item)",
        ),
        p("steps", Int, D::Int(2000), "training steps (batches)"),
        p(
            "fine_tune_steps",
            Int,
            D::Int(500),
            "decoder fine-tuning steps on the common basis",
        ),
        p("batch", Int, D::Int(64), "batch size"),
        p("lr", Float, D::Float(1e-3), "learning rate"),
        p(
            "fine_tune_lr",
            Float,
            D::Absent,
            "learning rate of fine-tuning (default: lr)",
        ),
        p(
            "schedule",
            WordOrCall(&["constant", "step", "cosine"]),
            D::Word("constant"),
            "constant | step(every, gamma) | cosine(min_lr)",
        ),
        p(
            "optimizer",
            WordOrCall(&["adam", "adabelief", "sgd"]),
            D::Word("adam"),
            "adam(beta1, beta2, eps) | adabelief(beta1, beta2, eps, eps_root) | sgd(momentum)",
        ),
        p(
            "loss",
            Word(&["relative_l2", "mse"]),
            D::Word("relative_l2"),
            "relative_l2 (the paper's ‖x̂ − x‖/‖x‖) | mse",
        ),
        p(
            "seed",
            Int,
            D::Int(0),
            "seed of initialisation, shuffling and sampling",
        ),
        p(
            "checkpoint_every",
            Int,
            D::Absent,
            "steps between checkpoints",
        ),
        p(
            "validate_every",
            Int,
            D::Int(100),
            "steps between validation losses (the loss on the first 1024 test samples; 0: none)",
        ),
    ],
    positional: 0,
    doc: "training settings",
};

/// The `eval { … }` settings.
pub const EVAL: OpSpec = OpSpec {
    name: "eval",
    params: &[
        p(
            "interpolation_pairs",
            Int,
            D::Int(50),
            "random training pairs to interpolate between",
        ),
        p(
            "interpolation_points",
            Int,
            D::Int(5),
            "intermediate points per pair",
        ),
        p(
            "random_samples",
            Int,
            D::Int(250),
            "random samples to decode (see `sample_prior` for where they are drawn)",
        ),
        p(
            "sample_prior",
            Bool,
            D::Absent,
            "draw random samples from the prior N(0, I) (default: on for vae and vrrae; off: from N(mean, cov) of the training coefficients, every other latent's way)",
        ),
        p(
            "bump_fit",
            Bool,
            D::Absent,
            "fit a bump to each generated sample (default: on for gaussian_bumps)",
        ),
    ],
    positional: 0,
    doc: "evaluation settings",
};

/// Options of the schedule and optimizer constructors.
pub const CONSTRUCTORS: &[OpSpec] = &[
    OpSpec {
        name: "constant",
        params: &[],
        positional: 0,
        doc: "constant learning rate",
    },
    OpSpec {
        name: "step",
        params: &[
            p("every", Int, D::Required, "steps between decays"),
            p("gamma", Float, D::Float(0.1), "decay factor"),
        ],
        positional: 2,
        doc: "lr · gamma^(step // every)",
    },
    OpSpec {
        name: "cosine",
        params: &[p("min_lr", Float, D::Float(0.0), "final learning rate")],
        positional: 1,
        doc: "cosine decay to min_lr",
    },
    OpSpec {
        name: "adam",
        params: &[
            p("beta1", Float, D::Float(0.9), "first-moment decay"),
            p("beta2", Float, D::Float(0.999), "second-moment decay"),
            p("eps", Float, D::Float(1e-8), "denominator epsilon"),
        ],
        positional: 0,
        doc: "Adam",
    },
    OpSpec {
        name: "adabelief",
        params: &[
            p("beta1", Float, D::Float(0.9), "first-moment decay"),
            p(
                "beta2",
                Float,
                D::Float(0.999),
                "decay of the squared prediction error",
            ),
            p("eps", Float, D::Float(1e-16), "denominator epsilon"),
            p(
                "eps_root",
                Float,
                D::Float(1e-16),
                "added to the second moment",
            ),
        ],
        positional: 0,
        doc: "AdaBelief (the authors' library's default optimizer, optax.adabelief)",
    },
    OpSpec {
        name: "sgd",
        params: &[p("momentum", Float, D::Float(0.0), "momentum")],
        positional: 1,
        doc: "stochastic gradient descent",
    },
];

pub fn find<'a>(table: &'a [OpSpec], name: &str) -> Option<&'a OpSpec> {
    table.iter().find(|s| s.name == name)
}
