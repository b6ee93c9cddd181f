//! histoactive: active learning for the Digital Slide Archive.
//!
//! It reads the annotations (nuclei, superpixels, regions) of a DSA folder and
//! their feature vectors, learns from the labels experts gave, and writes back
//! a prioritized review queue as an annotation layer on each slide.
//!
//! # Layout
//! - [`dsa`]: typed REST client for Girder + large_image (builder, auth,
//!   typed errors, retries, newtype ids, every annotation element type).
//!   Knows nothing of learning.
//! - [`geometry`]: centroids, bounds and containment of annotation shapes.
//! - [`samples`]: annotations → samples: feature vectors from element `user`
//!   data, labels from groups and label regions, conflicts kept.
//! - [`learn`]: pure learning code (ndarray in, rankings out): standardization,
//!   multinomial logistic regression, cross-validation, query strategies,
//!   site-aware batches and leave-one-site-out accuracy.
//! - [`writeback`]: our annotation layers and folder summary, replaced
//!   idempotently and never touching annotations we did not create.
//! - [`round`]: one round end to end: fetch → learn → write back.
//! - [`audit`]: the label audit end to end: disagreements and likely label
//!   errors, written as their own layer.
//! - [`simulate`]: replays active learning on fully labeled data (learning
//!   curves, summaries, plots) through the same `learn::query` as a round.
//! - [`report`]: the human summaries a round and an audit print (with the
//!   per-site table).
//! - [`progress`]: progress lines for a person, or slicer_cli_web tags for a DSA job.
//! - [`slicer`]: the DSA task-menu contract (`--list_cli`, `<Task> --xml`, task
//!   arguments translated onto the subcommands).
//! - [`dataset`]: labeled tables from CSV (simulation input, demo source).
//! - [`sites`]: which site (institution) each slide comes from: item
//!   metadata, TCGA barcodes, folders.
//! - [`multisite`]: a seeded multi-site evaluation set (WDBC with documented
//!   per-site effects) for site-aware simulations and tests.
//! - [`sync`]: scheduled sync: label and site fingerprint, folder lease, the
//!   `--every` loop.
//! - [`demo`]: builds a realistic demo cohort on a (test) server.
//! - [`cli`] / [`config`]: command-line definition, and its validation into a
//!   round configuration.
//! - [`commands`]: one function per subcommand (the only place `anyhow` is
//!   used) and the exit-code rule; `main.rs` only parses, dispatches and
//!   prints the error once.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dataset;
pub mod demo;
pub mod dsa;
pub mod geometry;
pub mod learn;
pub mod multisite;
pub mod progress;
pub mod report;
pub mod round;
pub mod samples;
pub mod simulate;
pub mod sites;
pub mod slicer;
pub mod sync;
pub mod writeback;
