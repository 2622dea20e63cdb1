//! The overlapped echo workload over many seeds, its trace, and a planted bug that a real
//! network exposes: a client that takes one receive for a whole message.

use crate::echo_workload::Echo;
use wsasim::Sim;

#[test]
fn the_overlapped_echo_passes_over_1000_seeds() {
    wsasim::check(0..1000, |sim| Echo::ISSUE.setup(sim));
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        Echo::ISSUE.setup(&mut sim);
        sim.run().unwrap_or_else(|f| panic!("{f}"))
    };
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let (a, b) = (run(seed), run(seed));
        assert_eq!(a.trace_hash(), b.trace_hash(), "seed {seed}");
        assert_eq!(a.trace_text(), b.trace_text(), "seed {seed}");
        hashes.insert(a.trace_hash());
    }
    assert_eq!(hashes.len(), 20, "every seed takes its own path");
}
