//! Errors of the learning code: bad parameters, and data it cannot learn from.

/// A hyperparameter outside its valid range; caught before any fitting.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    #[error("regularisation strength must be a finite number >= 0, got {0}")]
    Alpha(f64),
    #[error("the optimiser needs at least one iteration")]
    Iterations,
}

/// Data the model cannot be fitted on.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("a model needs labeled samples of at least 2 classes; have {have}")]
    TooFewClasses { have: String },
    #[error("feature matrix has {rows} rows but there are {labels} labels")]
    Shape { rows: usize, labels: usize },
    #[error("the pool has {got} features but the model was fitted on {expected}")]
    FeatureCount { expected: usize, got: usize },
    #[error("fitting the logistic regression failed: {0}")]
    Fit(String),
}
