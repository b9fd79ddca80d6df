//! Turning the recorded requests into the figures of `docs/PERFORMANCE.md`: a Markdown
//! table per route (rate, percentiles, answers by status), windows of time for fault runs,
//! and a per-second timeline.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::driver::{Route, Sample};
use crate::support;

/// Answers by status, e.g. `200×5120, 409×31`; status 0 means no HTTP answer.
pub fn statuses<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> String {
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for sample in samples {
        *counts.entry(sample.status).or_default() += 1;
    }
    counts
        .iter()
        .map(|(status, n)| match status {
            0 => format!("no answer×{n}"),
            _ => format!("{status}×{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(out: &mut String, label: &str, samples: &[&Sample], seconds: f64) {
    let stats = support::stats(samples.iter().map(|s| s.latency).collect());
    let _ = writeln!(
        out,
        "| {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        stats.count,
        stats.count as f64 / seconds,
        stats.p50_ms,
        stats.p95_ms,
        stats.p99_ms,
        stats.max_ms,
        statuses(samples.iter().copied()),
    );
}

/// The per-route table with an overall row.
pub fn route_table(samples: &[Sample], seconds: f64) -> String {
    let mut out = String::from(
        "| route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | answers |\n|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for route in Route::ALL {
        let of_route: Vec<&Sample> = samples.iter().filter(|s| s.route == route).collect();
        row(&mut out, route.label(), &of_route, seconds);
    }
    let all: Vec<&Sample> = samples.iter().collect();
    row(&mut out, "**overall**", &all, seconds);
    out
}

/// Latency percentiles of every request, in milliseconds.
pub fn overall(samples: &[Sample]) -> support::Stats {
    support::stats(samples.iter().map(|s| s.latency).collect())
}

/// Requests that are errors: no answer, any 5xx, or any status the route should not give.
pub fn unexpected(samples: &[Sample]) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|s| !s.route.expected(s.status))
        .collect()
}

/// Figures for the requests that started in `[from, to)`.
pub fn window(samples: &[Sample], from: Duration, to: Duration) -> String {
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= from && s.at < to)
        .collect();
    let max = inside.iter().map(|s| s.latency).max().unwrap_or_default();
    let slowest_503 = inside
        .iter()
        .filter(|s| s.status == 503)
        .map(|s| s.latency)
        .max();
    format!(
        "{} requests started in [{:.1} s, {:.1} s): {}; max latency {:.0} ms{}",
        inside.len(),
        from.as_secs_f64(),
        to.as_secs_f64(),
        statuses(inside.iter().copied()),
        max.as_secs_f64() * 1000.0,
        slowest_503
            .map(|l| format!(", slowest 503 {:.0} ms", l.as_secs_f64() * 1000.0))
            .unwrap_or_default(),
    )
}

/// One row per second of the run (by request start): answers by class and the slowest.
pub fn timeline(samples: &[Sample], seconds: u64) -> String {
    let mut out = String::from(
        "| second | requests | 2xx/3xx | 409 | 503 | other 4xx/5xx | no answer | max ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for second in 0..seconds {
        let inside: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at.as_secs() == second)
            .collect();
        let count = |f: &dyn Fn(u16) -> bool| inside.iter().filter(|s| f(s.status)).count();
        let max = inside.iter().map(|s| s.latency).max().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {second} | {} | {} | {} | {} | {} | {} | {:.0} |",
            inside.len(),
            count(&|s| (200..400).contains(&s)),
            count(&|s| s == 409),
            count(&|s| s == 503),
            count(&|s| s >= 400 && s != 409 && s != 503),
            count(&|s| s == 0),
            max.as_secs_f64() * 1000.0,
        );
    }
    out
}

/// Removes terminal colour codes from a log line.
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The server's WARN and ERROR lines: how many, and the first few of each distinct kind
/// (lines compared without their timestamp).
pub fn log_problems(log: &str) -> (usize, usize, Vec<String>) {
    let (mut warns, mut errors) = (0, 0);
    let mut seen: Vec<String> = Vec::new();
    let mut quoted = Vec::new();
    for line in log.lines().map(strip_ansi) {
        let level = if line.contains(" ERROR ") || line.contains("\"level\":\"ERROR\"") {
            errors += 1;
            "ERROR"
        } else if line.contains(" WARN ") || line.contains("\"level\":\"WARN\"") {
            warns += 1;
            "WARN"
        } else {
            continue;
        };
        // The kind of a line: its level and the first words of its message.
        let message = line.split(level).nth(1).unwrap_or("").trim();
        let kind: String = message.chars().take(60).collect();
        if !seen.contains(&kind) && quoted.len() < 12 {
            seen.push(kind);
            quoted.push(line.chars().take(400).collect());
        }
    }
    (warns, errors, quoted)
}
