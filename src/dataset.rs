//! Labeled tables from CSV files: the input of simulations and of the demo cohort.

use ndarray::Array2;

/// Which columns mean what.
#[derive(Debug, Clone)]
pub struct Columns {
    pub label: String,
    pub id: Option<String>,
    pub site: Option<String>,
    /// A glob (`*` matches any run of characters) over column names; by
    /// default every column that is not the label, id or site.
    pub features: Option<String>,
}

/// A table: one row per sample.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub ids: Vec<String>,
    pub feature_names: Vec<String>,
    pub features: Array2<f64>,
    /// Class of each row, as an index into `classes`.
    pub labels: Vec<usize>,
    /// Class names, sorted.
    pub classes: Vec<String>,
    pub sites: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: no column named '{column}' ({option}); the columns are: {available}")]
    NoColumn {
        file: String,
        column: String,
        option: &'static str,
        available: String,
    },
    #[error("{file}: no feature column matches '{pattern}'")]
    NoFeatures { file: String, pattern: String },
    #[error("{file}, line {line}: {message}")]
    Cell {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: needs labeled rows of at least 2 classes, found {found}")]
    Classes { file: String, found: usize },
}

/// `*` matches any run of characters; everything else literally.
/// One CSV cell: quoted when it holds a comma, a quote or a line break.
pub fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Splits one CSV line, honouring double-quoted cells (with `""` for a quote).
fn split_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    cells.push(cell.trim().to_string());
    cells
}

/// Parses CSV text; `file` names it in errors.
pub fn parse_csv(text: &str, file: &str, columns: &Columns) -> Result<Dataset, DatasetError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| DatasetError::Empty { file: file.into() })?;
    let names = split_line(header);
    let find = |column: &str, option: &'static str| {
        names
            .iter()
            .position(|n| n == column)
            .ok_or_else(|| DatasetError::NoColumn {
                file: file.into(),
                column: column.into(),
                option,
                available: names.join(", "),
            })
    };
    let label_col = find(&columns.label, "--label-column")?;
    let id_col = columns
        .id
        .as_deref()
        .map(|c| find(c, "--id-column"))
        .transpose()?;
    let site_col = columns
        .site
        .as_deref()
        .map(|c| find(c, "--site-column"))
        .transpose()?;
    let feature_cols: Vec<usize> = (0..names.len())
        .filter(|&i| i != label_col && Some(i) != id_col && Some(i) != site_col)
        .filter(|&i| {
            columns
                .features
                .as_deref()
                .is_none_or(|p| glob_match(p, &names[i]))
        })
        .collect();
    if feature_cols.is_empty() {
        return Err(DatasetError::NoFeatures {
            file: file.into(),
            pattern: columns.features.clone().unwrap_or("*".into()),
        });
    }
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut label_names = Vec::new();
    let mut sites = Vec::new();
    for (n, line) in lines {
        let cells = split_line(line);
        let cell_error = |message: String| DatasetError::Cell {
            file: file.into(),
            line: n + 1,
            message,
        };
        if cells.len() != names.len() {
            return Err(cell_error(format!(
                "{} cells, the header has {}",
                cells.len(),
                names.len()
            )));
        }
        for &c in &feature_cols {
            let v: f64 = cells[c].parse().map_err(|_| {
                cell_error(format!(
                    "'{}' in column '{}' is not a number",
                    cells[c], names[c]
                ))
            })?;
            if !v.is_finite() {
                return Err(cell_error(format!(
                    "column '{}' is not finite ({})",
                    names[c], cells[c]
                )));
            }
            values.push(v);
        }
        if cells[label_col].is_empty() {
            return Err(cell_error(format!(
                "no label in column '{}'",
                names[label_col]
            )));
        }
        label_names.push(cells[label_col].clone());
        ids.push(id_col.map_or_else(|| format!("row-{}", n + 1), |c| cells[c].clone()));
        if let Some(c) = site_col {
            sites.push(cells[c].clone());
        }
    }
    let mut classes = label_names.clone();
    classes.sort();
    classes.dedup();
    if classes.len() < 2 {
        return Err(DatasetError::Classes {
            file: file.into(),
            found: classes.len(),
        });
    }
    let labels = label_names
        .iter()
        .map(|l| classes.binary_search(l).unwrap_or(0))
        .collect();
    let features = Array2::from_shape_vec((ids.len(), feature_cols.len()), values)
        .expect("one value per row and feature column");
    Ok(Dataset {
        ids,
        feature_names: feature_cols.iter().map(|&c| names[c].clone()).collect(),
        features,
        labels,
        classes,
        sites: site_col.map(|_| sites),
    })
}

/// The WDBC data set shipped in `data/`.
pub const WDBC_CSV: &str = include_str!("../data/wdbc.csv");

/// The shipped WDBC table: label `diagnosis`, id `sample_id`.
pub fn wdbc() -> Dataset {
    let columns = Columns {
        label: "diagnosis".into(),
        id: Some("sample_id".into()),
        site: None,
        features: None,
    };
    parse_csv(WDBC_CSV, "data/wdbc.csv", &columns).expect("the shipped data set parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("mean_*", "mean_radius"));
        assert!(glob_match("*_error", "radius_error"));
        assert!(glob_match("*rad*", "mean_radius"));
        assert!(!glob_match("mean_*", "worst_radius"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exactly"));
    }

    #[test]
    fn the_shipped_table_parses() {
        let t = wdbc();
        assert_eq!(t.features.dim(), (569, 30));
        assert_eq!(t.classes, ["benign", "malignant"]);
        assert_eq!(t.labels.iter().filter(|&&l| l == 1).count(), 212);
        assert_eq!(t.ids[0], "wdbc-0000");
    }

    #[test]
    fn columns_sites_and_quotes() {
        let text = "id,\"a\",b,site,y\n1,1.5,2,\"St. Mary's, London\",x\n2,3,4,B,z\n";
        let cols = Columns {
            label: "y".into(),
            id: Some("id".into()),
            site: Some("site".into()),
            features: Some("a".into()),
        };
        let d = parse_csv(text, "t.csv", &cols).unwrap();
        assert_eq!(d.feature_names, ["a"]);
        assert_eq!(d.sites.unwrap(), ["St. Mary's, London", "B"]);
        assert_eq!(d.labels, [0, 1]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cols = Columns {
            label: "y".into(),
            id: None,
            site: None,
            features: None,
        };
        let err = parse_csv("a,y\n1,p\noops,q\n", "t.csv", &cols)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.csv, line 3") && err.contains("column 'a'"),
            "{err}"
        );
        let cols = Columns {
            label: "label".into(),
            ..cols
        };
        let err = parse_csv("a,y\n1,p\n", "t.csv", &cols)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column named 'label' (--label-column)") && err.contains("a, y"),
            "{err}"
        );
    }
}
