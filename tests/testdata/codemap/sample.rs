//! A bounded queue.

use std::collections::VecDeque;

mod errors;

/// What a queue can hold at most.
pub const CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub struct Queue<T> {
    items: VecDeque<T>,
    limit: usize,
}

pub enum Push {
    Accepted,
    Full,
}

pub trait Bounded {
    fn limit(&self) -> usize;
    fn is_full(&self) -> bool {
        false
    }
}

impl<T: Clone> Queue<T> {
    pub fn new(limit: usize) -> Self {
        Self { items: VecDeque::new(), limit }
    }

    pub fn push(&mut self, item: T) -> Push {
        if self.items.len() >= self.limit {
            return Push::Full;
        }
        self.items.push_back(item);
        Push::Accepted
    }
}

impl<T> Bounded for Queue<T> {
    fn limit(&self) -> usize {
        self.limit
    }
}

pub fn drain_all<T>(queue: &mut Queue<T>) -> Vec<T> {
    queue.items.drain(..).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_until_full() {
        let mut q = Queue::new(1);
        assert!(matches!(q.push(1), Push::Accepted));
    }
}
