//! Counters the engine keeps for the server's `/metrics`: items synced, by class and
//! direction. (The engine knows each collection's class; the server does not.)

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Which way an item went in a Sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// Add, Change, Delete or SoftDelete sent in a response's Commands.
    ToDevice,
    /// Add, Change or Delete the device sent in its request's Commands.
    FromDevice,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToDevice => "to_device",
            Direction::FromDevice => "from_device",
        }
    }
}

#[derive(Debug, Default)]
pub struct SyncStats {
    items: Mutex<BTreeMap<(&'static str, Direction), u64>>,
}

impl SyncStats {
    pub fn count(&self, class: &'static str, direction: Direction, n: usize) {
        if n == 0 {
            return;
        }
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        *items.entry((class, direction)).or_default() += n as u64;
    }

    /// ((class, direction), count), sorted.
    pub fn items(&self) -> Vec<((&'static str, Direction), u64)> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_class_and_direction() {
        let s = SyncStats::default();
        s.count("Email", Direction::ToDevice, 3);
        s.count("Email", Direction::ToDevice, 2);
        s.count("Email", Direction::FromDevice, 1);
        s.count("Calendar", Direction::FromDevice, 0);
        assert_eq!(
            s.items(),
            vec![
                (("Email", Direction::ToDevice), 5),
                (("Email", Direction::FromDevice), 1)
            ]
        );
    }
}
