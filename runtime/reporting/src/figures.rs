//! The run folder's figures: the loss curve with its rank and phase marks, the
//! singular values, and the image grids (reconstructions, interpolations, samples)
//! or, for 1-D samples, signal plots; with parameters, the test samples beside their
//! predictions from interpolated latents (`parametric.png`).

use crate::error::Result;
use crate::eval::{Gallery, Metrics};
use crate::plot::{
    captioned, image_grid, line_plot, Canvas, Figure, Series, BLUE, GREEN, GREY, ORANGE, PALETTE,
};
use rrae_train::control::Action;
use rrae_train::train::{Phase, Trainer};
use std::path::Path;

/// Writes every figure of a run into `dir`.
pub fn write(dir: &Path, t: &Trainer, m: &Metrics, g: &Gallery) -> Result<()> {
    let sample = t.data.sample.as_slice();
    let train: Vec<f64> = t
        .log
        .iter()
        .filter(|s| s.phase == Phase::Train)
        .map(|s| s.loss)
        .collect();
    let fine: Vec<f64> = t
        .log
        .iter()
        .filter(|s| s.phase == Phase::FineTune)
        .map(|s| s.loss)
        .collect();
    // Fine-tuning continues the x axis after training; the phase change and the rank
    // changes are marked (all of them when there are few, else the last).
    let mut marks = vec![];
    let ranks: Vec<(f64, String)> = t
        .decisions
        .iter()
        .filter_map(|d| match d.action {
            Action::SetK { k } | Action::Restore { k } => Some((d.step as f64, format!("k = {k}"))),
            Action::Save { .. } | Action::FineTune { .. } | Action::Stop => None,
        })
        .filter(|(step, _)| *step > 0.0)
        .collect();
    match ranks.len() {
        0 => {}
        1..=8 => marks.extend(ranks),
        _ => marks.extend(ranks.last().cloned()),
    }
    if !fine.is_empty() {
        marks.push((train.len() as f64, "fine-tuning".into()));
    }
    // The validation losses on the same axis: a training step's index, then
    // fine-tuning's after the training steps.
    // A gap (a non-finite point) between the phases: they measure different forms.
    let mut validation: Vec<(f64, f64)> = vec![];
    let mut last_phase = None;
    for s in &t.log {
        let Some(v) = s.validation else { continue };
        let x0 = match s.phase {
            Phase::Train => 0,
            Phase::FineTune => train.len(),
        };
        if last_phase.is_some_and(|p| p != s.phase) {
            validation.push((x0 as f64, f64::NAN));
        }
        last_phase = Some(s.phase);
        validation.push(((x0 + s.step) as f64, v));
    }
    // The latent operator's term of the training loss (a KL, a nuclear norm), where the
    // model has one: the part of the blue curve that is not reconstruction.
    let penalty: Vec<(f64, f64)> = t
        .log
        .iter()
        .filter(|s| s.phase == Phase::Train)
        .filter_map(|s| s.penalty.map(|p| (s.step as f64, p)))
        .collect();
    let penalty_name = t.model.ir.latent.op.penalty().unwrap_or("penalty");
    let loss_name = match t.model.ir.train.loss {
        rrae_lang::ir::Loss::RelativeL2 => "relative L2 error ‖x̂ − x‖ / ‖x‖ (%)",
        rrae_lang::ir::Loss::Mse => "mean squared error",
    };
    let mut series = vec![
        Series::indexed("training", &train, 0.0, BLUE),
        Series::indexed(
            "fine-tuning (decoder, on U_f)",
            &fine,
            train.len() as f64,
            ORANGE,
        ),
        Series {
            name: format!(
                "validation (first {} test samples)",
                rrae_train::validate::SAMPLES.min(t.data.test.len() / t.data.dim.max(1))
            ),
            points: validation,
            colour: GREEN,
        },
    ];
    if !penalty.is_empty() {
        series.push(Series {
            name: format!("of the training loss: {penalty_name}"),
            points: penalty,
            colour: PALETTE[4],
        });
    }
    line_plot(&Figure {
        title: format!("Loss of {} per step", t.model.ir.name),
        x_label: "step".into(),
        y_label: format!("{loss_name}, log scale"),
        log_y: true,
        series,
        marks,
    })
    .save(&dir.join("loss.png"))?;
    let sv: Vec<f64> = m.singular_values_encoder.iter().take(64).copied().collect();
    let svl: Vec<f64> = m.singular_values_latent.iter().take(64).copied().collect();
    let sv_figure = |log: bool| Figure {
        title: format!(
            "Singular values of the training latents{}",
            if log { " (log scale)" } else { "" }
        ),
        x_label: "index i".into(),
        y_label: "σᵢ / σ₁".into(),
        log_y: log,
        series: vec![
            Series::indexed("encoder output Y", &sv, 1.0, BLUE),
            Series::indexed("latent the decoder sees", &svl, 1.0, ORANGE),
        ],
        marks: vec![],
    };
    line_plot(&sv_figure(false)).save(&dir.join("singular_values.png"))?;
    line_plot(&sv_figure(true)).save(&dir.join("singular_values_log.png"))?;
    if let [n] | [_, n] = sample {
        if !g.parametric.is_empty() {
            signals(t, g, *n).save(&dir.join("parametric.png"))?;
        }
    }
    // Images: grey for one channel, colour for three; signals and vectors as curves.
    let (ch, ih, iw) = match sample {
        [c @ (1 | 3), h, w] => (*c, *h, *w),
        other => {
            if let Some(c) = crate::signals::Curves::of(other) {
                c.write(dir, g)?;
            }
            return Ok(());
        }
    };
    let mut pairs = g.originals.clone();
    pairs.extend_from_slice(&g.reconstructions);
    let n = g.originals.len() / (ch * ih * iw).max(1);
    // Each grid says what its rows are, above it.
    captioned(
        image_grid(&pairs, ch, ih, iw, n.max(1)),
        "top: training samples · bottom: their reconstructions (encoder, U_f, decoder)",
    )
    .save(&dir.join("reconstructions.png"))?;
    if g.interpolation_cols > 0 {
        captioned(
            image_grid(&g.interpolations, ch, ih, iw, g.interpolation_cols),
            "each row: training sample a, points linear in the coefficients, training sample b",
        )
        .save(&dir.join("interpolations.png"))?;
    }
    if !g.samples.is_empty() {
        captioned(
            image_grid(&g.samples, ch, ih, iw, 8),
            &format!("random samples: draws from {}, decoded", g.sampled_from),
        )
        .save(&dir.join("samples.png"))?;
    }
    if !g.parametric.is_empty() {
        // The test samples over the predictions from their interpolated latents.
        let mut rows = truth(t, &g.parametric_index);
        rows.extend_from_slice(&g.parametric);
        captioned(
            image_grid(&rows, ch, ih, iw, g.parametric_index.len()),
            "top: test samples · bottom: predicted from their parameters alone",
        )
        .save(&dir.join("parametric.png"))?;
    }
    Ok(())
}

/// Test samples `index` in original units.
fn truth(t: &Trainer, index: &[usize]) -> Vec<f64> {
    let d = t.data;
    index
        .iter()
        .flat_map(|&i| &d.test[i * d.dim..(i + 1) * d.dim])
        .map(|&v| d.norm.invert(v as f64))
        .collect()
}

/// 1-D samples (the first channel of [C, N]): two of the gallery's test signals, far
/// apart in the set, and their predictions from parameter-interpolated latents,
/// labelled with the parameters.
fn signals(t: &Trainer, g: &Gallery, n: usize) -> Canvas {
    let d = t.data;
    let truth = truth(t, &g.parametric_index);
    let mut series = vec![];
    for (i, &sample) in g.parametric_index.iter().enumerate().step_by(2).take(2) {
        let p = d.params.as_ref().map_or(String::new(), |p| {
            let row = &p.test[sample * p.dim..(sample + 1) * p.dim];
            let v: Vec<String> = row.iter().map(|x| format!("{x:.3}")).collect();
            format!(" at p = ({})", v.join(", "))
        });
        let at = |x: &[f64]| x[i * d.dim..i * d.dim + n].to_vec();
        series.push(Series::indexed(
            &format!("test sample{p}"),
            &at(&truth),
            0.0,
            GREY,
        ));
        let colour = if i == 0 { BLUE } else { ORANGE };
        series.push(Series::indexed(
            &format!("interpolated latent, decoded{p}"),
            &at(&g.parametric),
            0.0,
            colour,
        ));
    }
    line_plot(&Figure {
        title: "Test samples from latents interpolated in parameter space".into(),
        x_label: "sample index".into(),
        y_label: "value (original units)".into(),
        log_y: false,
        series,
        marks: vec![],
    })
}
