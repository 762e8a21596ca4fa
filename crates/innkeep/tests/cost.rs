//! `innkeep cost`: the real binary on the mid-size example prints both monthly costs and the
//! break-even, writes a chart that is valid SVG, and refuses a bad profile with the field
//! and the line.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn cost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .arg("cost")
        .args(args)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

#[test]
fn the_mid_size_example_prints_both_monthly_costs_the_break_even_and_writes_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("cost.svg");
    let profile = repo("examples/mid-size.toml");
    let capacity = repo("examples/capacity.json");
    let out = cost(&[
        "--profile",
        profile.to_str().unwrap(),
        "--capacity",
        capacity.to_str().unwrap(),
        "--chart",
        chart.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("| public cloud: AWS us-east-1, 1y | $"), "{text}");
    assert!(text.contains("| private cloud: OpenStack, 5 years | $"), "{text}");
    assert!(text.contains("Break-even at") || text.contains("No break-even"), "{text}");
    assert!(text.contains("measured by `innkeep bench embedded`"), "the capacity it used is named: {text}");

    let svg = std::fs::read_to_string(&chart).unwrap();
    let mut reader = quick_xml::Reader::from_str(&svg);
    let mut tags = Vec::new();
    loop {
        match reader.read_event().expect("the chart is well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                tags.push(String::from_utf8_lossy(e.name().as_ref()).to_string())
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(tags.first().map(String::as_str), Some("svg"));
    assert_eq!(tags.iter().filter(|t| *t == "polyline").count(), 2, "a line for each cloud");
    assert!(svg.contains("break-even") || !text.contains("Break-even at"), "the break-even is marked");

    // The same in JSON and CSV.
    let out =
        cost(&["--profile", profile.to_str().unwrap(), "--capacity", capacity.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["public_monthly"].as_f64().unwrap() > 0.0 && json["private_monthly"].as_f64().unwrap() > 0.0);
    let out =
        cost(&["--profile", profile.to_str().unwrap(), "--capacity", capacity.to_str().unwrap(), "--format", "csv"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("section,tier,item,quantity,unit,usd_per_month"));
}

#[test]
fn a_bad_profile_is_refused_with_the_field_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text =
        std::fs::read_to_string(repo("examples/small.toml")).unwrap().replace("photo_mb = 0.4", "photo_mb = \"big\"");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.contains("\"big\"")).unwrap() + 1;
    let out =
        cost(&["--profile", bad.to_str().unwrap(), "--capacity", repo("examples/capacity.json").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("line {line}: `load.photo_mb`")), "{err}");

    // No capacity anywhere: told what to give.
    let out = cost(&["--profile", repo("examples/small.toml").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--capacity"));
}
