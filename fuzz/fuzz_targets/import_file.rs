//! Untrusted bytes through the path a commune officer's import file takes: the first byte
//! picks XLSX or CSV, the rest is the file, read into cells under the same bounds and
//! time budget as the server (`shared::import::files`) and checked row by row
//! (`shared::import::check`). Nothing may panic, abort, exceed the budget or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::import::files::{Budget, ReadError, read_csv, read_xlsx};
use shared::import::{VillageRef, check};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The server's budget is 10 s; a fuzz input gets 5 and must stop within one more.
const BUDGET: Duration = Duration::from_secs(5);

fuzz_target!(|data: &[u8]| {
    let Some((&format, file)) = data.split_first() else {
        return;
    };
    let started = Instant::now();
    let (budget, _ends) = Budget::new(BUDGET);
    let read = if format % 2 == 0 {
        read_xlsx(file, &budget)
    } else {
        read_csv(file, &budget)
    };
    assert!(
        started.elapsed() < BUDGET + Duration::from_secs(1),
        "reading overran its budget: {:?}",
        started.elapsed()
    );
    match read {
        Ok(table) => {
            let villages = [VillageRef {
                id: "v1".into(),
                code: "01".into(),
                name: "Thôn Một".into(),
            }];
            let taken: BTreeSet<String> = ["DV-01-0001".to_string()].into();
            let (valid, _errors) = check(&table, &villages, &taken);
            // No more households than the file has rows.
            assert!(valid.len() <= table.len().saturating_sub(1));
        }
        Err(ReadError::Unreadable(_) | ReadError::Spent) => {}
    }
});
