//! Which household documents were last written at which sequence number, kept in the
//! process: a device's pull asks which documents of its scope changed after its cursor,
//! and asking the database on every sync cost one statement on a reader thread per
//! request. The index answers while it is known complete: through the sequence number
//! it last read from the database, advanced by this process's own commits as long as
//! they follow on without a gap. A gap (another process wrote: a second server on the
//! same PostgreSQL database, a command-line import) or an answer older than `FRESH` sends
//! the next question to the database first, so another process's writes reach the
//! devices of this one within that time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long the index answers without asking the database whether another process wrote.
pub const FRESH: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Seqs {
    /// Every write numbered up to this one is known (`None`: never read).
    upto: Option<u64>,
    /// The highest sequence number this process committed.
    published: u64,
    /// When the database was last read.
    read_at: Option<Instant>,
    by_doc: HashMap<String, u64>,
    by_seq: BTreeMap<u64, String>,
}

impl Seqs {
    /// Whether the database must be read before answering at `now`.
    pub fn stale(&self, now: Instant) -> bool {
        self.upto.is_none_or(|u| u < self.published)
            || self.read_at.is_none_or(|t| now.duration_since(t) >= FRESH)
    }

    /// The sequence number to read the database after.
    pub fn upto(&self) -> u64 {
        self.upto.unwrap_or(0)
    }

    fn set(&mut self, id: &str, seq: u64) {
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
    /// the sequence number through which the answer is complete. Call when not stale.
    pub fn since(&self, cursor: u64, ids: &[String], limit: usize) -> (u64, Vec<(String, u64)>) {
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
