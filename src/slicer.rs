//! The DSA task-menu contract (slicer_cli_web).
//!
//! slicer_cli_web registers a Docker image by running `IMAGE --list_cli`
//! (a JSON object of task names) and `IMAGE <Task> --xml` (each task's Slicer
//! execution-model XML), and runs a task as `IMAGE <Task> [--flag value …]
//! [positionals]`, with booleans as `--flag true|false`, vectors as
//! `"a, b, c"` and a folder as a raw Girder id. The XML files in
//! `plugin-spec/` are the single source of truth: they are embedded here,
//! printed byte for byte, and used to translate a task's arguments onto the
//! matching subcommand's options.

use std::fmt::Write as _;

/// One task: its name in the DSA menu, its XML, the subcommand it runs.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub name: &'static str,
    pub xml: &'static str,
    pub subcommand: &'static str,
}

pub const TASKS: [Task; 3] = [
    Task {
        name: "ReviewQueue",
        xml: include_str!("../plugin-spec/ReviewQueue.xml"),
        subcommand: "run",
    },
    Task {
        name: "LabelAudit",
        xml: include_str!("../plugin-spec/LabelAudit.xml"),
        subcommand: "audit",
    },
    Task {
        name: "SimulationReport",
        xml: include_str!("../plugin-spec/SimulationReport.xml"),
        subcommand: "simulate",
    },
];

/// What a parameter is, as far as translating it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    Vector,
    Value,
}

/// One parameter of a task's XML.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub tag: String,
    pub longflag: Option<String>,
    pub index: Option<usize>,
    pub kind: Kind,
}

#[derive(Debug, thiserror::Error)]
pub enum SlicerError {
    #[error("the {task} task's XML is not valid: {message}")]
    Spec { task: String, message: String },
    #[error("{task}: {message}")]
    Arguments { task: String, message: String },
}

/// The parameters of a task's XML, in document order.
pub fn parameters(task: &Task) -> Result<Vec<Param>, SlicerError> {
    let spec_error = |message: String| SlicerError::Spec {
        task: task.name.into(),
        message,
    };
    let doc = roxmltree::Document::parse(task.xml).map_err(|e| spec_error(e.to_string()))?;
    let mut params = Vec::new();
    for group in doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("parameters"))
    {
        for node in group
            .children()
            .filter(|n| n.is_element() && !["label", "description"].contains(&n.tag_name().name()))
        {
            let child = |tag: &str| {
                node.children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.text())
                    .map(str::trim)
            };
            let tag = node.tag_name().name().to_string();
            let name = child("name")
                .ok_or_else(|| spec_error(format!("a <{tag}> has no <name>")))?
                .to_string();
            let index = child("index")
                .map(|i| {
                    i.parse::<usize>()
                        .map_err(|_| spec_error(format!("{name}: <index> is not a number")))
                })
                .transpose()?;
            let kind = match tag.as_str() {
                "boolean" => Kind::Boolean,
                t if t.ends_with("-vector") => Kind::Vector,
                _ => Kind::Value,
            };
            params.push(Param {
                name,
                tag,
                longflag: child("longflag").map(str::to_string),
                index,
                kind,
            });
        }
    }
    Ok(params)
}

/// `--list_cli`: every task, as slicer_cli_web expects it.
pub fn list_cli() -> String {
    let mut out = String::from("{");
    for (i, task) in TASKS.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n  \"{}\": {{\"type\": \"cxx\"}}",
            if i == 0 { "" } else { "," },
            task.name
        );
    }
    out.push_str("\n}\n");
    out
}

/// Positional parameters become these options of the subcommand.
fn positional_option(param: &Param) -> String {
    param.name.clone()
}

/// Turns a task's slicer_cli_web arguments into the subcommand's argv.
pub fn translate(task: &Task, args: &[String]) -> Result<Vec<String>, SlicerError> {
    let params = parameters(task)?;
    let bad = |message: String| SlicerError::Arguments {
        task: task.name.into(),
        message,
    };
    let mut argv = vec!["histoactive".to_string(), task.subcommand.to_string()];
    let mut positionals: Vec<&Param> = params.iter().filter(|p| p.index.is_some()).collect();
    positionals.sort_by_key(|p| p.index);
    let mut next_positional = positionals.into_iter();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if let Some(flag) = arg.strip_prefix("--") {
            let (flag, inline) = match flag.split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (flag, None),
            };
            let param = params
                .iter()
                .find(|p| p.longflag.as_deref() == Some(flag))
                .ok_or_else(|| bad(format!("unknown option --{flag}; the task's options are listed by `histoactive {} --xml`", task.name)))?;
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i)
                        .cloned()
                        .ok_or_else(|| bad(format!("--{flag} needs a value")))?
                }
            };
            match param.kind {
                Kind::Boolean => match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => argv.push(format!("--{flag}")),
                    "false" | "0" | "no" | "" => {}
                    other => {
                        return Err(bad(format!("--{flag} takes true or false, got '{other}'")));
                    }
                },
                // Blank values are how the DSA leaves an optional parameter unset.
                _ if value.trim().is_empty() => {}
                Kind::Vector => {
                    let items: Vec<&str> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect();
                    argv.push(format!("--{flag}"));
                    argv.push(items.join(","));
                }
                Kind::Value => {
                    argv.push(format!("--{flag}"));
                    argv.push(value);
                }
            }
        } else {
            let param = next_positional
                .next()
                .ok_or_else(|| bad(format!("unexpected argument '{arg}'")))?;
            argv.push(format!("--{}", positional_option(param)));
            argv.push(arg.clone());
        }
        i += 1;
    }
    Ok(argv)
}

/// What the command line asks for, before ordinary argument parsing.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// Print this on stdout and exit 0 (`--list_cli`, `<Task> --xml`).
    Print(String),
    /// Run a task: the translated argv of its subcommand.
    Task(Vec<String>),
    /// An ordinary command line.
    Normal,
}

/// Recognises the slicer_cli_web forms of a command line.
pub fn route(args: &[String]) -> Result<Route, SlicerError> {
    match args.get(1).map(String::as_str) {
        Some("--list_cli") => Ok(Route::Print(list_cli())),
        Some(name) => match TASKS.iter().find(|t| t.name == name) {
            Some(task) if args.get(2).map(String::as_str) == Some("--xml") => {
                Ok(Route::Print(task.xml.to_string()))
            }
            Some(task) => translate(task, &args[2..]).map(Route::Task),
            None => Ok(Route::Normal),
        },
        None => Ok(Route::Normal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// Options of each subcommand that its task deliberately does not offer:
    /// the DSA passes a token (not a key), one folder, and reads the job log.
    fn not_in_task(subcommand: &str) -> &'static [&'static str] {
        match subcommand {
            "simulate" => &[
                "help",
                "api-key",
                "item",
                "data",
                "label-column",
                "id-column",
                "site-column",
                "feature-columns",
                "test-data",
                "test-fraction",
                "out",
                "diversity",
            ],
            _ => &[
                "help",
                "api-key",
                "timeout",
                "item",
                "show",
                "quiet",
                "concurrency",
            ],
        }
    }

    #[test]
    fn every_xml_parameter_is_a_real_option_and_back() {
        let cli = Cli::command();
        for task in &TASKS {
            let params = parameters(task).unwrap();
            let sub = cli.find_subcommand(task.subcommand).unwrap();
            let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
            let options: Vec<String> = params
                .iter()
                .map(|p| p.longflag.clone().unwrap_or_else(|| positional_option(p)))
                .collect();
            for (p, option) in params.iter().zip(&options) {
                assert!(
                    longs.contains(&option.as_str()),
                    "{}: parameter {} maps to --{option}, which `{}` lacks",
                    task.name,
                    p.name,
                    task.subcommand
                );
            }
            for long in longs {
                assert!(
                    options.iter().any(|o| o == long)
                        || not_in_task(task.subcommand).contains(&long),
                    "{}: option --{long} of `{}` has no XML parameter",
                    task.name,
                    task.subcommand
                );
            }
        }
    }

    #[test]
    fn slicer_conventions_become_ordinary_options() {
        let argv = translate(
            &TASKS[0],
            &strings(&[
                "--api-url",
                "http://dsa/api/v1",
                "--token",
                "t0k",
                "--classes",
                "tumor, lymphocyte ,stroma",
                "--dry-run",
                "true",
                "--audit",
                "false",
                "--labels",
                "",
                "--batch",
                "20",
                "6b119a70e5fc2c70876f61bc",
            ]),
        )
        .unwrap();
        assert_eq!(
            argv,
            strings(&[
                "histoactive",
                "run",
                "--api-url",
                "http://dsa/api/v1",
                "--token",
                "t0k",
                "--classes",
                "tumor,lymphocyte,stroma",
                "--dry-run",
                "--batch",
                "20",
                "--folder",
                "6b119a70e5fc2c70876f61bc",
            ])
        );
        // The translated command line parses.
        use clap::Parser;
        Cli::try_parse_from(&argv).unwrap();
    }

    #[test]
    fn routes_and_errors() {
        assert!(
            matches!(route(&strings(&["histoactive", "--list_cli"])).unwrap(), Route::Print(s) if s.contains("\"LabelAudit\": {\"type\": \"cxx\"}"))
        );
        assert_eq!(
            route(&strings(&["histoactive", "ReviewQueue", "--xml"])).unwrap(),
            Route::Print(TASKS[0].xml.into())
        );
        assert_eq!(
            route(&strings(&["histoactive", "run", "--help"])).unwrap(),
            Route::Normal
        );
        let err = route(&strings(&["histoactive", "ReviewQueue", "--bogus", "1"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown option --bogus"), "{err}");
        let err = route(&strings(&[
            "histoactive",
            "ReviewQueue",
            "--dry-run",
            "maybe",
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("true or false"), "{err}");
        let json: serde_json::Value = serde_json::from_str(&list_cli()).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 3);
    }
}
