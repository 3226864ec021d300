//! Bounded decoding of the change bytes a device pushes, before automerge sees them.
//!
//! Automerge inflates a compressed chunk without a limit and expands run-length encoded
//! columns op by op, so a few kilobytes can ask for gigabytes or hours. This module reads
//! only the chunk headers and the op-count column (without expanding any run), refuses
//! what a phone of this app never sends (compressed chunks, whole-document chunks,
//! bundles) and what exceeds the limits, and only then lets automerge decode each change.

use super::Refusal;
use automerge::Change;

/// Hard limits on what one sync request may carry. The phone app stays far below them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Pushes (households) in one request.
    pub pushes_per_request: usize,
    /// Change bytes in one push.
    pub bytes_per_push: usize,
    /// Change bytes in one request, over all its pushes.
    pub bytes_per_request: usize,
    /// Changes in one push.
    pub changes_per_push: usize,
    /// Operations in one change.
    pub ops_per_change: u64,
    /// Operations in one push.
    pub ops_per_push: u64,
    /// Records in one collection of a household (members, visits, …).
    pub records_per_collection: usize,
    /// Fields of one record.
    pub fields_per_record: usize,
    /// Characters of one text value (a review is kept whole as JSON text, hence larger).
    pub text_chars: usize,
    /// Entries of a list (causes).
    pub list_items: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        pushes_per_request: 200,
        bytes_per_push: 256 * 1024,
        bytes_per_request: 2 * 1024 * 1024,
        changes_per_push: 1_000,
        ops_per_change: 5_000,
        ops_per_push: 20_000,
        records_per_collection: 2_000,
        fields_per_record: 40,
        text_chars: 16_000,
        list_items: 40,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;
/// The column that holds one action per operation (automerge's column id 4).
const ACTION_COLUMN: u64 = 4;

fn limit(what: &str, max: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        "limit",
        format!("Dữ liệu gửi lên vượt giới hạn: {what} (tối đa {max})."),
        format!("The data sent exceeds a limit: {what} (at most {max})."),
    )
}

fn malformed(why: &str) -> Refusal {
    Refusal::new(
        "malformed",
        format!("Dữ liệu đồng bộ không đọc được ({why})."),
        format!("The sync data could not be read ({why})."),
    )
}

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Refusal> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| malformed("truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn uleb(&mut self) -> Result<u64, Refusal> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f)
                .checked_shl(shift)
                .ok_or_else(|| malformed("number"))?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("number"))
    }

    fn sleb(&mut self) -> Result<i64, Refusal> {
        let mut v: i64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.take(1)?[0];
            if shift >= 64 {
                return Err(malformed("number"));
            }
            v |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Ok(v);
            }
        }
    }

    fn len_prefixed(&mut self) -> Result<&'a [u8], Refusal> {
        let n = self.uleb()?;
        self.take(usize::try_from(n).map_err(|_| malformed("length"))?)
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// The number of operations a change chunk's body declares, read from its action column
/// run by run, never expanding a run.
fn op_count(body: &[u8], max: u64) -> Result<u64, Refusal> {
    let mut r = Reader { bytes: body, at: 0 };
    let deps = r.uleb()?;
    for _ in 0..deps {
        r.take(32)?;
    }
    r.len_prefixed()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    r.len_prefixed()?; // message
    let others = r.uleb()?;
    for _ in 0..others {
        r.len_prefixed()?;
    }
    let columns = r.uleb()?;
    if columns > 64 {
        return Err(malformed("columns"));
    }
    let mut specs = Vec::new();
    for _ in 0..columns {
        let spec = r.uleb()?;
        let len = usize::try_from(r.uleb()?).map_err(|_| malformed("length"))?;
        specs.push((spec, len));
    }
    let mut ops = 0u64;
    for (spec, len) in specs {
        let data = r.take(len)?;
        if spec & 0b1000 != 0 {
            return Err(limit("cột nén / compressed column", 0));
        }
        if spec >> 4 != ACTION_COLUMN {
            continue;
        }
        // Run-length encoding: n > 0 repeats one value n times, n < 0 lists -n values,
        // n = 0 is followed by a count of nulls.
        let mut col = Reader { bytes: data, at: 0 };
        while !col.done() {
            let n = col.sleb()?;
            let run = if n > 0 {
                col.uleb()?;
                n.unsigned_abs()
            } else if n < 0 {
                for _ in 0..n.unsigned_abs().min(max + 1) {
                    col.uleb()?;
                }
                n.unsigned_abs()
            } else {
                col.uleb()?
            };
            ops = ops.saturating_add(run);
            if ops > max {
                return Err(limit(
                    "số thao tác của một thay đổi / operations in one change",
                    max,
                ));
            }
        }
    }
    Ok(ops)
}

/// Splits a push's bytes into changes, checking every limit before automerge decodes
/// anything. Only plain change chunks are taken: the app never sends another kind.
pub fn decode_changes(bytes: &[u8], limits: &Limits) -> Result<Vec<Change>, Refusal> {
    if bytes.len() > limits.bytes_per_push {
        return Err(limit(
            "số byte của một hộ / bytes for one household",
            limits.bytes_per_push,
        ));
    }
    let mut r = Reader { bytes, at: 0 };
    let mut changes = Vec::new();
    let mut ops_total = 0u64;
    while !r.done() {
        let start = r.at;
        if r.take(4)? != MAGIC {
            return Err(malformed("magic"));
        }
        r.take(4)?; // checksum, verified by automerge
        let kind = r.take(1)?[0];
        let body = r.len_prefixed()?;
        if kind != CHUNK_CHANGE {
            return Err(Refusal::new(
                "chunk_kind",
                "Chỉ nhận các thay đổi không nén; hãy cập nhật ứng dụng.",
                "Only uncompressed changes are accepted; please update the app.",
            ));
        }
        if changes.len() == limits.changes_per_push {
            return Err(limit(
                "số thay đổi của một hộ / changes for one household",
                limits.changes_per_push,
            ));
        }
        ops_total += op_count(body, limits.ops_per_change)?;
        if ops_total > limits.ops_per_push {
            return Err(limit(
                "số thao tác của một hộ / operations for one household",
                limits.ops_per_push,
            ));
        }
        let change =
            Change::try_from(&bytes[start..r.at]).map_err(|e| malformed(&e.to_string()))?;
        changes.push(change);
    }
    if changes.is_empty() {
        return Err(malformed("empty"));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn changes_of(doc: &mut AutoCommit) -> Vec<u8> {
        doc.save_after(&[])
    }

    #[test]
    fn plain_changes_decode_with_their_op_counts() {
        let mut doc = AutoCommit::new();
        for i in 0..10 {
            doc.put(ROOT, format!("k{i}"), i as i64).unwrap();
        }
        doc.commit();
        doc.put(ROOT, "x", "y").unwrap();
        doc.commit();
        let changes = decode_changes(&changes_of(&mut doc), &Limits::DEFAULT).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].len(), 10);
    }

    #[test]
    fn a_compressed_change_is_refused_before_it_is_inflated() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "big", "a".repeat(10_000)).unwrap();
        doc.commit();
        let mut change = doc.get_changes(&[]).into_iter().next().unwrap().clone();
        let compressed = change.bytes().into_owned();
        assert_eq!(compressed[8], 2, "automerge compressed it");
        let e = decode_changes(&compressed, &Limits::DEFAULT).unwrap_err();
        assert_eq!(e.code, "chunk_kind");
    }

    #[test]
    fn too_many_ops_are_refused_without_expanding_them() {
        let mut doc = AutoCommit::new();
        for i in 0..100 {
            doc.put(ROOT, "k", i as i64).unwrap();
        }
        doc.commit();
        let small = Limits {
            ops_per_change: 50,
            ..Limits::DEFAULT
        };
        let e = decode_changes(&changes_of(&mut doc), &small).unwrap_err();
        assert_eq!(e.code, "limit");
    }

    #[test]
    fn a_whole_document_chunk_is_refused() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "k", 1).unwrap();
        let e = decode_changes(&doc.save(), &Limits::DEFAULT).unwrap_err();
        assert_eq!(e.code, "chunk_kind");
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Whatever the bytes, decoding ends with changes or a refusal, never a panic.
        #[test]
        fn any_bytes_are_decoded_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = decode_changes(&bytes, &Limits::DEFAULT);
        }

        /// Flipping bytes of a valid change never panics either.
        #[test]
        fn mutated_changes_are_decoded_or_refused(at in 0usize..200, value in proptest::num::u8::ANY) {
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "name", "Hoàng Văn Páo").unwrap();
            doc.put(ROOT, "n", 3).unwrap();
            doc.commit();
            let mut bytes = doc.save_after(&[]);
            let i = at % bytes.len();
            bytes[i] = value;
            let _ = decode_changes(&bytes, &Limits::DEFAULT);
        }
    }
}

/// A hand-made change chunk whose one column declares `ops` operations in a few bytes (one
/// run-length encoded run), as a hostile client can write it. For the tests.
#[doc(hidden)]
pub fn run_length_bomb(ops: u64) -> Vec<u8> {
    fn uleb(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn sleb(n: i64, out: &mut Vec<u8>) {
        // Non-negative values only here.
        let mut n = n as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 && b & 0x40 == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut column = Vec::new();
    sleb(ops as i64, &mut column);
    uleb(1, &mut column);
    let mut body = vec![0]; // no dependencies
    body.push(16);
    body.extend([7u8; 16]); // actor
    body.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
    body.push(1); // one column: actions
    uleb((ACTION_COLUMN << 4) | 2, &mut body);
    uleb(column.len() as u64, &mut body);
    body.extend(column);
    let mut chunk = MAGIC.to_vec();
    chunk.extend([0, 0, 0, 0, CHUNK_CHANGE]);
    uleb(body.len() as u64, &mut chunk);
    chunk.extend(body);
    chunk
}

#[cfg(test)]
mod bomb_tests {
    use super::*;

    #[test]
    fn a_run_length_encoded_op_bomb_is_refused_by_its_count_without_expanding_it() {
        let bytes = run_length_bomb(1 << 40);
        assert!(bytes.len() < 64, "{} bytes", bytes.len());
        let e = decode_changes(&bytes, &Limits::DEFAULT).unwrap_err();
        assert_eq!(e.code, "limit");
    }
}
