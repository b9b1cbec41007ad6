//! Instructions per record, counted by valgrind's callgrind: unlike time, the
//! count does not depend on what else the machine is doing, so the ratios
//! between variants are repeatable.
//!
//! Each variant runs twice in a child process under callgrind, with N1 and
//! N2 records; (I(N2) - I(N1)) / (N2 - N1) is the cost of one record, with
//! start-up and host detection cancelled out. See `hot_path.rs` for the
//! variants.

#[path = "support/variants.rs"]
mod variants;

use std::process::Command;

use variants::{init_pipeline, variants};

const CHILD: &str = "SLOG_HOST_INSTRUCTIONS_CHILD";

/// (variant id, N1, N2): the lookup per record is 300x dearer, so fewer.
const RUNS: &[(&str, u64, u64)] = &[
    ("a_plain", 1_000, 11_000),
    ("b_static_fields", 1_000, 11_000),
    ("c_enrich", 1_000, 11_000),
    ("d_lookup_per_record", 10, 60),
    ("e_tracing_json", 1_000, 11_000),
    ("f_init_pipeline", 1_000, 11_000),
    ("h_disabled", 1_000, 11_000),
    ("g_flood_suppressed", 1_000, 11_000),
];

fn child(id: &str, n: u64) {
    let guard = init_pipeline();
    let all = variants(&guard);
    let v = all.iter().find(|v| v.id == id).expect("known variant");
    (0..n).for_each(|_| (v.record)());
}

fn instructions(id: &str, n: u64) -> Result<u64, String> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(std::env::current_exe().map_err(|e| e.to_string())?)
        .env(CHILD, format!("{id}:{n}"))
        .output()
        .map_err(|e| format!("cannot run valgrind: {e} (install it: apt-get install valgrind)"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("valgrind failed for {id}: {stderr}"));
    }
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no 'Collected' line from callgrind: {stderr}"))
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (id, n) = spec.split_once(':').expect("id:n");
        child(id, n.parse().expect("record count"));
        return;
    }
    let guard = init_pipeline();
    let labels = variants(&guard);
    let mut per_record = Vec::new();
    for (id, n1, n2) in RUNS {
        let result = instructions(id, *n1).and_then(|i1| Ok((i1, instructions(id, *n2)?)));
        match result {
            Ok((i1, i2)) => per_record.push((*id, (i2 - i1) as f64 / (n2 - n1) as f64)),
            Err(e) => {
                eprintln!("FAILED: {e}");
                std::process::exit(1);
            }
        }
    }
    let of = |id: &str| {
        per_record
            .iter()
            .find(|(v, _)| *v == id)
            .map(|(_, n)| *n)
            .unwrap()
    };
    println!("\n## instructions per record (callgrind)\n");
    println!("| variant | instructions | / (c) |");
    println!("|---|---:|---:|");
    for (id, n) in &per_record {
        let label = labels.iter().find(|v| v.id == *id).map_or(*id, |v| v.label);
        println!("| {label} | {n:.0} | {:.3} |", n / of("c_enrich"));
    }
    let cb = of("c_enrich") / of("b_static_fields");
    println!(
        "\ninstruction ratios: (c)/(b) = {cb:.3} (target <= 1.05: {}), (e)/(c) = {:.2}; \
         (d)/(c) = {:.0} counts user space only: (d) spends most of its time in the kernel \
         (its syscalls), so compare (d) by time, in hot_path",
        if cb <= 1.05 { "met" } else { "NOT met" },
        of("e_tracing_json") / of("c_enrich"),
        of("d_lookup_per_record") / of("c_enrich"),
    );
}
