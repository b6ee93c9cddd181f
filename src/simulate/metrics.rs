//! Test-set metrics of a learning curve.

/// Accuracy, balanced accuracy (mean per-class recall) and macro-F1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
}

/// Scores predictions against truth over `n_classes` classes. Classes absent
/// from the truth are left out of the balanced accuracy and macro-F1 means.
pub fn score(truth: &[usize], predicted: &[usize], n_classes: usize) -> Scores {
    let n = truth.len().max(1) as f64;
    let mut tp = vec![0usize; n_classes];
    let mut actual = vec![0usize; n_classes];
    let mut said = vec![0usize; n_classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        actual[t] += 1;
        said[p] += 1;
        if t == p {
            tp[t] += 1;
        }
    }
    let present: Vec<usize> = (0..n_classes).filter(|&c| actual[c] > 0).collect();
    let m = present.len().max(1) as f64;
    let recall = |c: usize| tp[c] as f64 / actual[c] as f64;
    let f1 = |c: usize| {
        let denom = actual[c] + said[c];
        if denom == 0 {
            0.0
        } else {
            2.0 * tp[c] as f64 / denom as f64
        }
    };
    Scores {
        accuracy: tp.iter().sum::<usize>() as f64 / n,
        balanced_accuracy: present.iter().map(|&c| recall(c)).sum::<f64>() / m,
        macro_f1: present.iter().map(|&c| f1(c)).sum::<f64>() / m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn known_answers() {
        // truth: 3 of class 0, 1 of class 1; one class-0 sample called 1.
        let s = score(&[0, 0, 0, 1], &[0, 0, 1, 1], 2);
        assert_abs_diff_eq!(s.accuracy, 0.75);
        assert_abs_diff_eq!(s.balanced_accuracy, (2.0 / 3.0 + 1.0) / 2.0);
        // F1(0) = 2·2/(3+2) = 0.8, F1(1) = 2·1/(1+2) = 2/3
        assert_abs_diff_eq!(s.macro_f1, (0.8 + 2.0 / 3.0) / 2.0, epsilon = 1e-12);
    }
}
