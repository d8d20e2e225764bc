use super::coefficients;
use crate::ops::gaussian::{kl, reparameterise};
use crate::ops::gradcheck::{constant, max_error, noise, values, Case};
use crate::ops::linear::linear;
use crate::ops::matmul::matmul;

fn unwrap<T>(r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}")) // ok: test
}

/// A batch of 5 latents of length 7 with well-separated singular values.
fn batch() -> Case {
    Case {
        x: noise(35, 21),
        rows: 5,
        cols: 7,
        mats: vec![],
        vecs: vec![],
    }
}

#[test]
fn at_zero_noise_the_sample_is_the_rank_k_projection() {
    let x = noise(35, 21);
    let got = values(|t| {
        let y = constant(t, &x, 5, 7);
        let (c, ut) = coefficients(t, y, 2, 3);
        unwrap(matmul(t, c, ut))
    });
    let want = crate::truncation::project_rank_k(&x, 5, 7, 2).output;
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn coefficients_backward_matches_finite_differences() {
    for (k, width) in [(2, 2), (3, 5), (5, 5)] {
        let err = max_error(&batch(), |t, y, _| coefficients(t, y, k, width).0);
        assert!(err < 1e-6, "C at k = {k}, width {width}: {err}");
    }
}

#[test]
fn basis_backward_matches_finite_differences() {
    for (k, width) in [(1, 1), (2, 4), (4, 4)] {
        let err = max_error(&batch(), |t, y, _| coefficients(t, y, k, width).1);
        assert!(err < 1e-6, "U_kᵀ at k = {k}, width {width}: {err}");
    }
}

/// The whole training form at a fixed ε: y → C, log σ² = C W + b, μ = C (or, with a
/// trainable mean, C oriented and μ = C W_m + b_m), z = μ + ε σ, U_k z, and the KL of the first k columns,
/// differentiated in y and every map's weight and bias together.
fn training_form_error(trainable_mean: bool) -> f64 {
    let (k, width) = (2, 3);
    let eps = noise(5 * width, 4);
    let mut case = batch();
    case.mats = vec![(noise(width * width, 5), width, width)];
    case.vecs = vec![noise(width, 6)];
    if trainable_mean {
        case.mats.push((noise(width * width, 7), width, width));
        case.vecs.push(noise(width, 8));
    }
    max_error(&case, |t, y, p| {
        let (c, ut) = coefficients(t, y, k, width);
        let (c, ut) = match trainable_mean {
            true => unwrap(super::oriented(t, c, ut)),
            false => (c, ut),
        };
        let logvar = unwrap(linear(t, c, p.mats[0], Some(p.vecs[0])));
        let mean = match trainable_mean {
            true => unwrap(linear(t, c, p.mats[1], Some(p.vecs[1]))),
            false => c,
        };
        let e = constant(t, &eps, 5, width);
        let z = unwrap(reparameterise(t, mean, logvar, e));
        let out = unwrap(matmul(t, z, ut));
        // Both terms in one checked output: the sample, then the KL.
        let penalty = unwrap(kl(t, mean, logvar, k, 0.7));
        crate::ops::gradcheck::concat_scalar(t, out, penalty)
    })
}

#[test]
fn the_variational_latent_and_its_kl_match_finite_differences() {
    let err = training_form_error(false);
    assert!(err < 1e-6, "{err}");
}

/// `mean = trainable`: the gradient also reaches the mean map's weight and bias.
#[test]
fn a_trainable_mean_and_its_kl_match_finite_differences() {
    let err = training_form_error(true);
    assert!(err < 1e-6, "{err}");
}

/// More samples than latent entries (`batch > L`): every direction of the latent space
/// is spanned, so the basis's gradient has no orthogonal complement term.
#[test]
fn the_basis_gradient_holds_when_the_batch_outnumbers_the_latent() {
    let case = Case {
        x: noise(36, 22),
        rows: 9,
        cols: 4,
        mats: vec![],
        vecs: vec![],
    };
    for k in [1, 2, 4] {
        let err = max_error(&case, |t, y, _| {
            let (c, ut) = coefficients(t, y, k, 4);
            crate::ops::gradcheck::concat_scalar(t, c, ut)
        });
        assert!(err < 1e-6, "k = {k}: {err}");
    }
}

/// The folded layer `y A + c` is U_f (W_k U_fᵀ y + b_k) for any y, stays in U_f's span
/// (projecting it changes nothing), uses only the map's leading k × k block, and is the
/// identity before U_f exists.
#[test]
fn the_folded_mean_layer_is_the_mean_map_in_u_f_coordinates() {
    use nalgebra::{DMatrix, DVector};
    let (l, k, width) = (6, 2, 4);
    let raw = DMatrix::from_column_slice(l, k, &noise(l * k, 11));
    let u = raw.qr().q();
    let w: Vec<f32> = noise(width * width, 12).iter().map(|&v| v as f32).collect();
    let b: Vec<f32> = noise(width, 13).iter().map(|&v| v as f32).collect();
    let (a, c) = super::folded(Some(&u), l, &w, &b, width);
    let a = DMatrix::from_row_slice(l, l, &a).map(f64::from);
    let c = DVector::from_iterator(l, c.iter().map(|&v| f64::from(v)));
    let wk = DMatrix::from_fn(k, k, |i, j| f64::from(w[i * width + j]));
    let bk = DVector::from_fn(k, |i, _| f64::from(b[i]));
    let y = DVector::from_column_slice(&noise(l, 14));
    // Rows are samples: the layer computes yᵀ A + cᵀ; the mean map (yᵀ U) W_k + b_kᵀ.
    let got = a.transpose() * &y + &c;
    let want = &u * (wk.transpose() * (u.transpose() * &y) + bk);
    assert!((&got - &want).abs().max() < 1e-5, "{got} vs {want}");
    let projected = &u * (u.transpose() * &got);
    assert!((projected - &got).abs().max() < 1e-5);
    let (eye, zero) = super::folded(None, l, &w, &b, width);
    assert_eq!(
        DMatrix::from_row_slice(l, l, &eye),
        DMatrix::<f32>::identity(l, l)
    );
    assert!(zero.iter().all(|&v| v == 0.0));
}

/// Orienting flips the basis vectors whose coefficients sum below 0 over the batch, so
/// every coefficient column sums to ≥ 0, and leaves the product U_k C exactly as it was;
/// U_f is oriented by the same rule over the training latents.
#[test]
fn orienting_makes_each_coefficient_column_sum_non_negative_and_keeps_the_product() {
    let x = noise(35, 21);
    let (k, width) = (3, 3);
    let [(c0, p0), (c1, p1)] = [false, true].map(|orient| {
        let got = values(|t| {
            let y = constant(t, &x, 5, 7);
            let (c, ut) = coefficients(t, y, k, width);
            let (c, ut) = match orient {
                true => unwrap(super::oriented(t, c, ut)),
                false => (c, ut),
            };
            let prod = unwrap(matmul(t, c, ut));
            crate::ops::gradcheck::concat_scalar(t, c, prod)
        });
        let (c, p) = got.split_at(5 * width);
        (c.to_vec(), p.to_vec())
    });
    assert_eq!(p0, p1, "U_k C changed");
    let sums = |c: &[f64]| {
        (0..width)
            .map(|j| (0..5).map(|i| c[i * width + j]).sum::<f64>())
            .collect::<Vec<_>>()
    };
    assert!(sums(&c1).iter().all(|&v| v >= 0.0), "{:?}", sums(&c1));
    assert!(
        sums(&c0).iter().any(|&v| v < 0.0),
        "this draw needs a flip to test one: {:?}",
        sums(&c0)
    );
    for (a, b) in c0.iter().zip(&c1) {
        assert_eq!(a.abs(), b.abs());
    }
    // U_f over "training latents" whose sum points against its second column.
    let u = nalgebra::DMatrix::from_column_slice(3, 2, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let y = [0.5f32, -2.0, 1.0, 0.25, 0.5, 0.0];
    let o = super::orient_basis(&u, &y);
    assert_eq!(o.column(0), u.column(0));
    assert_eq!(o.column(1), -u.column(1));
}
