//! A list that grows without moving what it holds: fixed-size chunks.
//!
//! A `Vec` of a few hundred thousand elements grows by copying itself into
//! one twice its size, so for a moment it holds three times its final size
//! (the old copy, the new one, half of it unused), and a `shrink_to_fit`
//! copies it once more. The Apache loader's list of directives at 10,000
//! sites was 20 MiB (15 MiB since its items shrank): those copies were the
//! peak of the load and the page faults of its growth. Chunks are allocated
//! as the list grows and never moved; at most one chunk is partly unused.

/// Elements per chunk: 4,096 Apache items are 288 KiB.
const CHUNK: usize = 4096;

#[derive(Debug, Clone)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// Every element, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// The elements of `range`, in order.
    ///
    /// # Panics
    /// When the range reaches past the end, as slicing would.
    pub fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = &T> {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "range {range:?} out of a list of {}",
            self.len
        );
        (range.start..range.end).map(|k| &self[k])
    }

    /// Gives back the unused room of the last chunk, which moves that
    /// chunk: meant for a list that is done growing.
    pub fn shrink_to_fit(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            last.shrink_to_fit();
        }
        self.chunks.shrink_to_fit();
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(value) => value,
            None => panic!("index {index} out of a list of {}", self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_a_vec_holds_across_chunk_boundaries() {
        let mut list = Chunked::default();
        let mut vec = Vec::new();
        assert!(list.is_empty() && list.get(0).is_none());
        for n in 0..(3 * CHUNK + 17) {
            list.push(n * 7);
            vec.push(n * 7);
        }
        list.shrink_to_fit();
        assert_eq!(list.len(), vec.len());
        assert!(list.iter().eq(vec.iter()));
        assert!(list.iter().rev().eq(vec.iter().rev()));
        for k in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, vec.len() - 1] {
            assert_eq!(list[k], vec[k]);
            assert_eq!(list.get(k), Some(&vec[k]));
        }
        assert_eq!(list.get(vec.len()), None);
        let r = CHUNK - 3..2 * CHUNK + 5;
        assert!(list.range(r.clone()).eq(vec[r].iter()));
        assert_eq!(list.range(5..5).count(), 0);
    }

    #[test]
    #[should_panic(expected = "out of a list of 3")]
    fn an_index_past_the_end_panics_as_a_slice_would() {
        let mut list = Chunked::default();
        for n in 0..3 {
            list.push(n);
        }
        let _ = list[3];
    }

    #[test]
    #[should_panic(expected = "out of a list of 3")]
    fn a_range_past_the_end_panics_as_slicing_would() {
        let mut list = Chunked::default();
        for n in 0..3 {
            list.push(n);
        }
        let _ = list.range(1..4).count();
    }
}
