//! Which household documents were last written at which sequence number, kept in the
//! process: a device's pull asks which documents of its scope changed after its cursor,
//! and asking the database on every sync cost one statement on a reader thread per
//! request. The index answers while it is known complete: through the sequence number
//! it last read from the database, advanced by this process's own commits as long as
//! they follow on without a gap. A gap (another process wrote: a second server on the
//! same PostgreSQL database, a command-line import) or an answer older than `FRESH` sends
//! the next question to the database first, so another process's writes reach the
//! devices of this one within that time.
//!
//! It holds the writes after a floor, not every document of the database: it starts at
//! the sequence number the database had reached when the process first asked (reading a
//! province's 800,000 documents into it took 1.8 s and about 150 MB per process), and
//! keeps at most `KEPT` documents, raising the floor past the oldest. A device whose
//! cursor is below the floor (a new phone, one back after a long time offline, the first
//! sync after the server started) is answered by the database for its scope
//! (`Docs::docs_since`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long the index answers without asking the database whether another process wrote.
pub const FRESH: Duration = Duration::from_secs(1);

/// Documents the index holds at most (about 200 bytes each with both maps).
pub const KEPT: usize = 100_000;

#[derive(Debug)]
pub struct Seqs {
    /// Every write numbered up to this one is known (`None`: never read).
    upto: Option<u64>,
    /// Writes after this one are known; a cursor below it is answered by the database.
    floor: u64,
    /// The highest sequence number this process committed.
    published: u64,
    /// When the database was last read.
    read_at: Option<Instant>,
    by_doc: HashMap<String, u64>,
    by_seq: BTreeMap<u64, String>,
    /// Documents held at most.
    kept: usize,
}

impl Default for Seqs {
    fn default() -> Self {
        Seqs::holding(KEPT)
    }
}

impl Seqs {
    /// An index of at most `kept` documents.
    pub fn holding(kept: usize) -> Self {
        Seqs {
            upto: None,
            floor: 0,
            published: 0,
            read_at: None,
            by_doc: HashMap::new(),
            by_seq: BTreeMap::new(),
            kept: kept.max(1),
        }
    }

    /// Whether the database must be read before answering at `now`.
    pub fn stale(&self, now: Instant) -> bool {
        self.upto.is_none_or(|u| u < self.published)
            || self.read_at.is_none_or(|t| now.duration_since(t) >= FRESH)
    }

    /// Whether the index was never started (`start`).
    pub fn unstarted(&self) -> bool {
        self.upto.is_none()
    }

    /// Starts the index at `seq`, the sequence number the database has reached: it knows
    /// the writes after it (and this process's own, already counted), none before.
    pub fn start(&mut self, seq: u64, at: Instant) {
        if self.upto.is_none() {
            self.floor = seq;
            self.read(seq, [], at);
        }
    }

    /// Whether a question after `cursor` is one for the database: the index does not
    /// hold the writes at or before its floor.
    pub fn below_floor(&self, cursor: u64) -> bool {
        cursor < self.floor
    }

    /// The sequence number to read the database after.
    pub fn upto(&self) -> u64 {
        self.upto.unwrap_or(0)
    }

    fn set(&mut self, id: &str, seq: u64) {
        if seq <= self.floor && self.upto.is_some() {
            return;
        }
        match self.by_doc.get_mut(id) {
            Some(old) if *old >= seq => return,
            Some(old) => {
                self.by_seq.remove(old);
                *old = seq;
            }
            None => {
                self.by_doc.insert(id.to_string(), seq);
            }
        }
        self.by_seq.insert(seq, id.to_string());
        // Over the bound: the oldest write goes, and the floor rises to it.
        while self.by_doc.len() > self.kept {
            let Some((seq, id)) = self.by_seq.pop_first() else {
                break;
            };
            self.by_doc.remove(&id);
            self.floor = self.floor.max(seq);
        }
    }

    /// This process committed these writes (oldest first): when they follow on from what
    /// is known without a gap, the index stays complete through the last of them.
    pub fn committed<'a>(&mut self, writes: impl IntoIterator<Item = (&'a str, u64)>) {
        for (id, seq) in writes {
            self.set(id, seq);
            self.published = self.published.max(seq);
            if self.upto.is_some_and(|u| u + 1 == seq) {
                self.upto = Some(seq);
            }
        }
    }

    /// The database said: every write through `seq` is committed, and `docs` were written
    /// after the sequence number it was asked after (read at `at`).
    pub fn read(&mut self, seq: u64, docs: impl IntoIterator<Item = (String, u64)>, at: Instant) {
        for (id, s) in docs {
            self.set(&id, s);
        }
        self.upto = Some(self.upto.map_or(seq, |u| u.max(seq)));
        self.read_at = Some(at);
    }

    /// Documents among `ids` written after `cursor`, oldest first, at most `limit`, and
    /// the sequence number through which the answer is complete. Call when not stale and
    /// `cursor` is not below the floor.
    pub fn since(&self, cursor: u64, ids: &[String], limit: usize) -> (u64, Vec<(String, u64)>) {
        debug_assert!(!self.below_floor(cursor));
        let upto = self.upto();
        // Whichever is shorter is walked: the ids asked, or the writes since the cursor
        // (at most one per sequence number).
        let span = self.published.max(upto).saturating_sub(cursor);
        let docs = if (ids.len() as u64) < span {
            let mut found: Vec<(String, u64)> = ids
                .iter()
                .filter_map(|id| {
                    let s = *self.by_doc.get(id)?;
                    (s > cursor).then(|| (id.clone(), s))
                })
                .collect();
            found.sort_by_key(|(_, s)| *s);
            found.truncate(limit);
            found
        } else {
            let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
            self.by_seq
                .range(cursor.saturating_add(1)..)
                .filter(|(_, id)| wanted.contains(id.as_str()))
                .take(limit)
                .map(|(s, id)| (id.clone(), *s))
                .collect()
        };
        (upto, docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn answers_only_while_complete_and_fresh() {
        let now = Instant::now();
        let mut s = Seqs::default();
        assert!(s.stale(now), "never read");
        s.read(10, [("a".to_string(), 3), ("b".to_string(), 10)], now);
        assert!(!s.stale(now));
        assert!(
            s.stale(now + FRESH),
            "too old: another process may have written"
        );
        // This process's writes following on keep it complete.
        s.committed([("a", 11), ("c", 12)]);
        assert!(!s.stale(now));
        assert_eq!(
            s.since(3, &ids(&["a", "b", "c", "d"]), 10),
            (
                12,
                vec![("b".into(), 10), ("a".into(), 11), ("c".into(), 12)]
            )
        );
        assert_eq!(s.since(11, &ids(&["a", "b"]), 10), (12, vec![]));
        assert_eq!(s.since(0, &ids(&["a", "b", "c"]), 2).1.len(), 2);
        // A gap: seq 13 was another process's; read the database before answering.
        s.committed([("b", 14)]);
        assert!(s.stale(now));
        s.read(14, [("d".to_string(), 13), ("b".to_string(), 14)], now);
        assert!(!s.stale(now));
        assert_eq!(
            s.since(12, &ids(&["a", "b", "d"]), 10),
            (14, vec![("d".into(), 13), ("b".into(), 14)])
        );
    }

    /// Started where the database is, the index holds no older write and sends older
    /// cursors to the database; over its bound it lets the oldest writes go and raises
    /// its floor past them, and still answers every cursor above the floor in full.
    #[test]
    fn holds_the_writes_after_its_floor_and_at_most_its_bound() {
        let now = Instant::now();
        let mut s = Seqs::holding(3);
        assert!(s.unstarted());
        s.start(100, now);
        assert!(!s.unstarted() && !s.stale(now));
        assert!(s.below_floor(0) && s.below_floor(99) && !s.below_floor(100));
        assert_eq!(s.since(100, &ids(&["a"]), 10), (100, vec![]));
        s.committed([("a", 101), ("b", 102), ("c", 103)]);
        assert_eq!(s.since(100, &ids(&["a", "b", "c"]), 10).1.len(), 3);
        // A fourth document: "a", the oldest, goes and the floor rises to 101.
        s.committed([("d", 104)]);
        assert!(s.below_floor(100) && !s.below_floor(101));
        assert_eq!(
            s.since(101, &ids(&["a", "b", "c", "d"]), 10),
            (
                104,
                vec![("b".into(), 102), ("c".into(), 103), ("d".into(), 104)]
            )
        );
        // A document written again moves up; the bound still holds.
        s.committed([("b", 105), ("e", 106)]);
        assert_eq!(s.by_doc.len(), 3);
        assert!(s.below_floor(102) && !s.below_floor(103));
        assert_eq!(
            s.since(103, &ids(&["b", "c", "d", "e"]), 10),
            (
                106,
                vec![("d".into(), 104), ("b".into(), 105), ("e".into(), 106)]
            )
        );
        // Starting again does nothing once started.
        s.start(500, now);
        assert!(!s.below_floor(103));
    }

    /// The walk over the writes since the cursor and the walk over the ids both give what
    /// a search of every document gives.
    #[test]
    fn both_walks_give_every_document_written_since() {
        let now = Instant::now();
        let mut s = Seqs::default();
        // 300 documents, written 500 times in all.
        let writes: Vec<(String, u64)> = (1..=500)
            .map(|n| (format!("h{}", n * 7 % 300), n))
            .collect();
        s.read(0, [], now);
        s.committed(writes.iter().map(|(id, n)| (id.as_str(), *n)));
        assert!(!s.stale(now));
        let expect = |cursor: u64, ids: &[String], limit: usize| {
            let mut last: HashMap<&str, u64> = HashMap::new();
            for (id, n) in &writes {
                last.insert(id, *n);
            }
            let mut v: Vec<(String, u64)> = ids
                .iter()
                .filter_map(|id| {
                    last.get(id.as_str())
                        .filter(|n| **n > cursor)
                        .map(|n| (id.clone(), *n))
                })
                .collect();
            v.sort_by_key(|(_, n)| *n);
            v.truncate(limit);
            v
        };
        let many: Vec<String> = (0..300).step_by(2).map(|i| format!("h{i}")).collect();
        let few: Vec<String> = many.iter().take(20).cloned().collect();
        // 150 ids, 50 writes since: the writes are walked; 20 ids, 500 writes: the ids.
        for (cursor, ids, limit) in [
            (450, &many, 1000),
            (450, &many, 5),
            (0, &few, 1000),
            (0, &few, 3),
            (499, &few, 10),
        ] {
            assert_eq!(
                s.since(cursor, ids, limit),
                (500, expect(cursor, ids, limit)),
                "after {cursor}"
            );
        }
    }
}
