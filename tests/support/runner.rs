//! The ending of a `harness = false` test file: one line per test, the
//! closing `N passed, N failed` line, and a failing exit status if any failed.
#![allow(dead_code)]

/// Prints `results` and exits with status 1 if any failed.
pub fn report(suite: &str, results: impl IntoIterator<Item = (String, Result<(), String>)>) {
    let (mut passed, mut failed) = (0, 0);
    for (name, result) in results {
        match result {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("\n{suite}: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
