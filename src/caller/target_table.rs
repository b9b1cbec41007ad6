//! The directives' targets as a radix tree (on the thread that logs): the
//! longest directive that is a prefix of a record's target, found in time
//! linear in the target's length, whatever the number of directives. Built
//! once per filter change, in time linear in the directives' total length.

use slog::FilterLevel;

/// Targets and their levels, for longest-prefix lookups: a radix tree (a
/// trie whose chains of single children are one edge), so a lookup is a few
/// byte compares per branch point, not a step per byte.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TargetTable {
    /// Node 0 is the root (the empty prefix).
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Node {
    /// The bytes of the edge from the parent to this node.
    label: Box<[u8]>,
    /// (first byte of the child's label, child's index), sorted by byte.
    children: Vec<(u8, u32)>,
    /// The level of the directive that ends here, if one does.
    level: Option<FilterLevel>,
}

impl Node {
    fn child(&self, b: u8) -> Result<usize, usize> {
        self.children.binary_search_by_key(&b, |c| c.0)
    }
}

impl TargetTable {
    /// A table of `targets` (later duplicates win).
    pub(crate) fn new<'a>(targets: impl IntoIterator<Item = (&'a str, FilterLevel)>) -> Self {
        let mut table = TargetTable {
            nodes: vec![Node::default()],
        };
        for (target, level) in targets {
            table.insert(target.as_bytes(), level);
        }
        table
    }

    fn push(&mut self, label: &[u8], level: Option<FilterLevel>) -> usize {
        self.nodes.push(Node {
            label: label.into(),
            children: Vec::new(),
            level,
        });
        self.nodes.len() - 1
    }

    fn insert(&mut self, mut rest: &[u8], level: FilterLevel) {
        let mut at = 0usize;
        loop {
            let Some(&first) = rest.first() else {
                self.nodes[at].level = Some(level);
                return;
            };
            let slot = match self.nodes[at].child(first) {
                Err(slot) => {
                    let new = self.push(rest, Some(level));
                    self.nodes[at].children.insert(slot, (first, new as u32));
                    return;
                }
                Ok(slot) => slot,
            };
            let child = self.nodes[at].children[slot].1 as usize;
            let label = &self.nodes[child].label;
            let common = label.iter().zip(rest).take_while(|(a, b)| a == b).count();
            if common == label.len() {
                at = child;
                rest = &rest[common..];
                continue;
            }
            // Split the edge: a node for the common part, the old child
            // below it with the rest of its label.
            let (head, tail) = (label[..common].to_vec(), label[common..].to_vec());
            let mid = self.push(&head, None);
            self.nodes[child].label = tail.clone().into();
            self.nodes[mid].children.push((tail[0], child as u32));
            self.nodes[at].children[slot].1 = mid as u32;
            at = mid;
            rest = &rest[common..];
        }
    }

    /// The level of the longest target that `target` starts with.
    pub(crate) fn longest_prefix(&self, target: &str) -> Option<FilterLevel> {
        let mut rest = target.as_bytes();
        let mut found = None;
        let mut at = &self.nodes[0];
        while let Some(&first) = rest.first() {
            let Ok(slot) = at.child(first) else { break };
            let child = &self.nodes[at.children[slot].1 as usize];
            let Some(after) = rest.strip_prefix(&*child.label) else {
                break;
            };
            rest = after;
            at = child;
            if at.level.is_some() {
                found = at.level;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins_as_a_linear_scan_would_find_it() {
        let targets = [
            ("hyper", FilterLevel::Warning),
            ("hyper::client", FilterLevel::Debug),
            ("app", FilterLevel::Trace),
            ("ap", FilterLevel::Error),
            ("hyper::client::pool", FilterLevel::Off),
        ];
        let table = TargetTable::new(targets);
        let linear = |t: &str| {
            let mut sorted = targets.to_vec();
            sorted.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
            sorted.iter().find(|d| t.starts_with(d.0)).map(|d| d.1)
        };
        for t in [
            "hyper",
            "hyper::server",
            "hyper::client",
            "hyper::client::conn",
            "hyper::client::pool::x",
            "app",
            "apple",
            "ap",
            "a",
            "",
            "other",
            "hype",
        ] {
            assert_eq!(table.longest_prefix(t), linear(t), "{t}");
        }
    }

    #[test]
    fn thousands_of_targets_agree_with_a_scan() {
        let levels = [
            FilterLevel::Off,
            FilterLevel::Error,
            FilterLevel::Debug,
            FilterLevel::Trace,
        ];
        let mut targets: Vec<(String, FilterLevel)> = Vec::new();
        for i in 0..3000usize {
            let t = match i % 4 {
                0 => format!("svc_{}", i % 7),
                1 => format!("svc_{}::m_{}", i % 7, i % 11),
                2 => format!("svc_{}::m_{}::p_{i}", i % 7, i % 11),
                _ => format!("s{}", i % 5),
            };
            targets.push((t, levels[i % 4]));
        }
        // Later duplicates win, as the parser keeps the last one.
        let mut last: std::collections::HashMap<&str, FilterLevel> = Default::default();
        for (t, l) in &targets {
            last.insert(t, *l);
        }
        let table = TargetTable::new(targets.iter().map(|(t, l)| (t.as_str(), *l)));
        let linear = |t: &str| {
            last.iter()
                .filter(|(d, _)| t.starts_with(*d))
                .max_by_key(|(d, _)| d.len())
                .map(|(_, l)| *l)
        };
        for i in 0..5000usize {
            let t = format!("svc_{}::m_{}::p_{}::x", i % 9, i % 13, i % 4001);
            assert_eq!(table.longest_prefix(&t), linear(&t), "{t}");
            let short = &t[..(i % t.len())];
            assert_eq!(table.longest_prefix(short), linear(short), "{short}");
        }
    }
}
