//! Which of a sweep's seeds one machine runs, so that several CI machines share it.

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

    pub fn select(self, seeds: impl Iterator<Item = u64>) -> Vec<u64> {
        seeds.enumerate().filter(|(i, _)| *i as u64 % self.n == self.k - 1).map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_seeds() {
        let all: Vec<u64> = (5..105).collect();
        let mut union: Vec<u64> =
            (1..=3).flat_map(|k| Shard { k, n: 3 }.select(all.iter().copied())).collect();
        union.sort();
        assert_eq!(union, all);
        assert_eq!(Shard::parse("2/3"), Ok(Shard { k: 2, n: 3 }));
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err());
    }
}
