//! `histoactive dev seed`: a demo cohort on a test server, printed as JSON.

use anyhow::Context;

use crate::cli::SeedArgs;
use crate::dataset::{Columns, parse_csv, wdbc};
use crate::demo::{DemoSpec, admin_client, seed_cohort};
use crate::dsa::Secret;

pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let table = match &args.data {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let columns = Columns {
                label: "diagnosis".into(),
                id: Some("sample_id".into()),
                site: None,
                features: None,
            };
            parse_csv(&text, &path.display().to_string(), &columns)?
        }
        None => wdbc(),
    };
    let password = Secret::new(args.password.clone());
    let client = admin_client(&args.api_url, &args.login, &password)
        .await
        .context("signing in to the test server")?;
    let spec = DemoSpec {
        collection: args.collection,
        slides: args.slides,
        nuclei_per_slide: args.nuclei_per_slide,
        seed: args.seed,
    };
    let cohort = seed_cohort(&client, &table, &spec).await?;
    let key = client.create_api_key("histoactive demo").await?;
    let mut out = serde_json::to_value(&cohort)?;
    out["api_url"] = serde_json::json!(args.api_url);
    out["api_key"] = serde_json::json!(key.expose());
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `histoactive dev multisite`: the seeded multi-site evaluation set as CSV.
pub fn multisite(args: crate::cli::MultisiteArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let data = crate::multisite::multisite_wdbc(args.seed);
    std::fs::write(&args.out, crate::multisite::to_csv(&data))
        .with_context(|| format!("writing {}", args.out.display()))?;
    for site in &crate::multisite::SITES {
        eprintln!(
            "· {}: {} malignant, {} benign — {}",
            site.name, site.malignant, site.benign, site.what
        );
    }
    println!(
        "wrote {} ({} rows, seed {})",
        args.out.display(),
        data.labels.len(),
        args.seed
    );
    Ok(())
}
