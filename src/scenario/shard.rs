//! Which of a sweep's seeds one machine runs, so that several CI machines share it.

use std::ops::Range;
use wsasim_sim::Seeds;

/// Which of a scenario's seeds a machine runs: the `k`th of every `n` (from 1), so that
/// shards `1/n` to `n/n` together run each seed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    pub fn parse(s: &str) -> Result<Shard, String> {
        let parsed = s.split_once('/').and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((k, n)) if 1 <= k && k <= n => Ok(Shard { k, n }),
            _ => Err(format!("{s:?}: expected K/N with 1 <= K <= N, such as 2/3")),
        }
    }

    /// This shard's seeds of `range`, not listed.
    pub fn seeds(self, range: Range<u64>) -> Seeds {
        Seeds::Range { range, every: self.n, first: self.k - 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_seeds() {
        let all: Vec<u64> = (5..105).collect();
        let shard = |k| Shard { k, n: 3 }.seeds(5..105);
        let mut union: Vec<u64> =
            (1..=3).flat_map(|k| (0..shard(k).len()).map(move |i| shard(k).nth(i))).collect();
        assert_eq!([1, 2, 3].map(|k| shard(k).len()), [34, 33, 33]);
        union.sort();
        assert_eq!(union, all);
        assert_eq!(Shard::parse("2/3"), Ok(Shard { k: 2, n: 3 }));
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err());
    }
}
