//! The FID-style scores on MNIST (`../shared/data/mnist`): the local classifier learns,
//! its features tell real digits from noise, and a run on labelled images reports the
//! scores.

use rrae_report::classifier::{Classifier, FEATURES};
use rrae_report::fid::frechet;
use rrae_train::data::Dataset;

fn mnist(extra: &str) -> rrae_lang::Ir {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let src = format!(
        "data mnist = idx(train = \"{0}/train-images-idx3-ubyte.gz\", test = \"{0}/t10k-images-idx3-ubyte.gz\", limit_train = 3000, limit_test = 600, normalize = minmax)
model small {{
    input [1, 28, 28]
    encoder {{ conv2d(8, 3, stride = 2, padding = 1) relu flatten linear(16) }}
    latent svd_truncate(k = 4)
    decoder {{ linear(8 * 14 * 14) reshape([8, 14, 14]) conv_transpose2d(8, 3, stride = 2, padding = 1, output_padding = 1) relu conv2d(1, 1) }}
}}
{extra}",
        root.display()
    );
    let c = rrae_lang::check_with("mnist.rrae", &src, &rrae_lang::MemLoader::default());
    match c.result {
        Ok(ir) => ir,
        Err(_) => panic!("{}", c.render_error().unwrap_or_default()), // ok: fixed input
    }
}

#[test]
fn labels_load_and_the_classifier_features_separate_digits_from_noise() {
    let ir = mnist("train { steps = 1 }");
    let d = Dataset::load(ir.data.as_ref().unwrap()).unwrap(); // ok: shared data is part of the test setup
    let labels = d
        .labels
        .clone()
        .expect("MNIST labels sit beside the images"); // ok: test
    assert_eq!((labels.train.len(), labels.test.len()), (3000, 600));
    // The first training labels of MNIST are 5, 0, 4, 1, 9.
    assert_eq!(&labels.train[..5], &[5, 0, 4, 1, 9]);
    let mut c = Classifier::new(1, 28, 28, 10, 1);
    c.train(&d.train, &labels.train, 400, 1).unwrap(); // ok: test
    let acc = c.accuracy(&d.test, &labels.test).unwrap(); // ok: test
    assert!(acc > 0.85, "test accuracy {acc}");
    let (a, b) = d.test.split_at(300 * 784);
    let (fa, fb) = (c.features(a).unwrap(), c.features(b).unwrap()); // ok: test
    let same = frechet(&fa, &fb, FEATURES);
    let noise: Vec<f32> = (0..300 * 784)
        .map(|i| ((i * 7919) % 256) as f32 / 255.0)
        .collect();
    let far = frechet(&fa, &c.features(&noise).unwrap(), FEATURES); // ok: test
    assert!(
        far > 10.0 * same,
        "real vs real {same:.3}, real vs noise {far:.3}"
    );
}

#[test]
fn a_run_on_labelled_images_reports_the_fid_style_scores() {
    let ir = mnist("train { steps = 60 fine_tune_steps = 10 batch = 32 }\neval { interpolation_pairs = 20 random_samples = 100 }");
    let d: &'static Dataset =
        Box::leak(Box::new(Dataset::load(ir.data.as_ref().unwrap()).unwrap())); // ok: test
    let model = rrae_engine::model::Model::lower(&ir, 0).unwrap(); // ok: test
    let mut t = rrae_train::train::Trainer::new(model, d, false);
    t.run(&mut |_: &rrae_train::schedule::Event| {}).unwrap(); // ok: test
    let (m, _) = rrae_report::eval::Evaluator {
        t: &t,
        cfg: ir.eval.clone(),
    }
    .run(0)
    .unwrap(); // ok: test
    let acc = m.classifier_accuracy.unwrap(); // ok: labelled images
    assert!(acc > 0.85, "{acc}");
    for (name, v) in [
        ("reconstruction", m.fid_reconstruction),
        ("interpolation", m.fid_interpolation),
        ("sampling", m.fid_sampling),
    ] {
        let v = v.unwrap_or_else(|| panic!("no {name} score")); // ok: test
        assert!(v.is_finite() && v > 0.0, "{name}: {v}");
    }
}
