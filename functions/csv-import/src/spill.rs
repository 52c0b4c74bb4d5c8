//! Sorting more entries than memory should hold: runs of a fixed number of entries are sorted
//! in memory, appended to one unnamed temporary file (gone when closed, even after a crash),
//! and merged on the way out, each run read through a small buffer of its own.
//!
//! In-tree because the crate tried first (extsort 0.5) returns nothing at all when the number
//! of entries is a multiple of its run size plus one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// An entry of fixed size on disk.
pub(crate) trait Record: Sized {
    const SIZE: usize;
    fn encode(&self, out: &mut Vec<u8>);
    /// `bytes` holds exactly [`Record::SIZE`] bytes that `encode` wrote.
    fn decode(bytes: &[u8]) -> Self;
}

/// Bytes read from a run at a time while merging.
const READ_AHEAD: usize = 32 * 1024;

pub(crate) struct Sorter<T, K> {
    key: fn(&T) -> K,
    run: usize,
    buffer: Vec<T>,
    file: Option<BufWriter<File>>,
    /// Each run on disk: where it starts, and its entries.
    runs: Vec<(u64, u64)>,
    written: u64,
}

impl<T: Record, K: Ord> Sorter<T, K> {
    /// Sorts by `key` (unique to each entry: equal keys come out in no set order), holding at
    /// most `run` entries in memory.
    pub(crate) fn new(run: usize, key: fn(&T) -> K) -> Self {
        Self {
            key,
            run: run.max(1),
            buffer: Vec::new(),
            file: None,
            runs: Vec::new(),
            written: 0,
        }
    }

    pub(crate) fn push(&mut self, entry: T) -> io::Result<()> {
        self.buffer.push(entry);
        if self.buffer.len() == self.run {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let key = self.key;
        self.buffer.sort_unstable_by_key(key);
        let file = match &mut self.file {
            Some(file) => file,
            None => self
                .file
                .insert(BufWriter::with_capacity(READ_AHEAD, tempfile::tempfile()?)),
        };
        let entries = self.buffer.len() as u64;
        let mut bytes = Vec::with_capacity(T::SIZE);
        for entry in self.buffer.drain(..) {
            bytes.clear();
            entry.encode(&mut bytes);
            debug_assert_eq!(bytes.len(), T::SIZE);
            file.write_all(&bytes)?;
        }
        self.runs.push((self.written, entries));
        self.written += entries * T::SIZE as u64;
        Ok(())
    }

    /// Every entry pushed, in key order.
    pub(crate) fn finish(mut self) -> io::Result<Sorted<T, K>> {
        if self.runs.is_empty() {
            let key = self.key;
            self.buffer.sort_unstable_by_key(key);
            return Ok(Sorted {
                key,
                source: Source::Memory(std::mem::take(&mut self.buffer).into_iter()),
            });
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let file = match self.file.take() {
            Some(file) => Arc::new(file.into_inner().map_err(io::IntoInnerError::into_error)?),
            None => return Err(io::Error::other("spilled runs without a file")),
        };
        let mut runs: Vec<Run> = self
            .runs
            .iter()
            .map(|&(start, entries)| Run::new(file.clone(), start, entries))
            .collect();
        let mut heap = BinaryHeap::with_capacity(runs.len());
        let mut heads = Vec::with_capacity(runs.len());
        for (at, run) in runs.iter_mut().enumerate() {
            let head = run.next::<T>()?;
            if let Some(entry) = &head {
                heap.push(Reverse(((self.key)(entry), at)));
            }
            heads.push(head);
        }
        Ok(Sorted {
            key: self.key,
            source: Source::Disk { runs, heads, heap },
        })
    }
}

/// The entries of a [`Sorter`], in key order.
pub(crate) struct Sorted<T, K> {
    key: fn(&T) -> K,
    source: Source<T, K>,
}

enum Source<T, K> {
    Memory(std::vec::IntoIter<T>),
    Disk {
        runs: Vec<Run>,
        /// Each run's smallest entry not yet returned.
        heads: Vec<Option<T>>,
        /// The heads' keys, smallest on top.
        heap: BinaryHeap<Reverse<(K, usize)>>,
    },
}

impl<T: Record, K: Ord> Iterator for Sorted<T, K> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Memory(entries) => entries.next().map(Ok),
            Source::Disk { runs, heads, heap } => {
                let Reverse((_, at)) = heap.pop()?;
                let entry = heads[at].take()?;
                match runs[at].next::<T>() {
                    Ok(Some(head)) => {
                        heap.push(Reverse(((self.key)(&head), at)));
                        heads[at] = Some(head);
                    }
                    Ok(None) => {}
                    Err(err) => return Some(Err(err)),
                }
                Some(Ok(entry))
            }
        }
    }
}

/// One run of the file, read ahead through its own buffer.
struct Run {
    file: Arc<File>,
    next_read: u64,
    /// Entries not yet read into `buffer`.
    unread: u64,
    buffer: Vec<u8>,
    at: usize,
}

impl Run {
    fn new(file: Arc<File>, start: u64, entries: u64) -> Self {
        Self {
            file,
            next_read: start,
            unread: entries,
            buffer: Vec::new(),
            at: 0,
        }
    }

    fn next<T: Record>(&mut self) -> io::Result<Option<T>> {
        if self.at == self.buffer.len() {
            if self.unread == 0 {
                return Ok(None);
            }
            let per_read = (READ_AHEAD / T::SIZE).max(1) as u64;
            let entries = self.unread.min(per_read);
            self.buffer.resize(entries as usize * T::SIZE, 0);
            self.file.read_exact_at(&mut self.buffer, self.next_read)?;
            self.next_read += self.buffer.len() as u64;
            self.unread -= entries;
            self.at = 0;
        }
        let entry = T::decode(&self.buffer[self.at..self.at + T::SIZE]);
        self.at += T::SIZE;
        Ok(Some(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct N(u64);
    impl Record for N {
        const SIZE: usize = 8;
        fn encode(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.0.to_le_bytes());
        }
        fn decode(bytes: &[u8]) -> Self {
            let mut word = [0; 8];
            word.copy_from_slice(bytes);
            N(u64::from_le_bytes(word))
        }
    }

    /// Totals below, at and around multiples of the run size: every entry comes back, once,
    /// in order, whether or not anything went to disk.
    #[test]
    fn returns_every_entry_in_order_for_any_count() {
        for total in [0u64, 1, 4, 5, 6, 10, 11, 30, 31, 99] {
            let mut sorter = Sorter::new(5, |n: &N| n.0);
            for i in 0..total {
                sorter.push(N((i * 37) % 101)).expect("push");
            }
            let sorted = sorter.finish().expect("finish");
            let got: Vec<u64> = sorted.map(|n| n.expect("read").0).collect();
            let mut want: Vec<u64> = (0..total).map(|i| (i * 37) % 101).collect();
            want.sort();
            assert_eq!(got, want, "total {total}");
        }
    }
}
