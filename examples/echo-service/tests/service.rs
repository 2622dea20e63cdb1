//! The service as its users reach it, from outside the crate, under wsasim.
#![cfg(feature = "sim")]

use echo_service::{echo_once, serve, startup};
use wsasim::Sim;

fn setup(sim: &mut Sim) {
    sim.client("server", "192.0.2.10", || {
        startup().unwrap();
        serve(3).unwrap();
    });
    for i in 0..3u8 {
        sim.client(&format!("c{i}"), &format!("192.0.2.{}", 20 + i), move || {
            startup().unwrap();
            let message = vec![i; 5_000];
            assert_eq!(echo_once("server", &message).unwrap(), message);
        });
    }
}

#[test]
fn three_clients_over_many_seeds() {
    wsasim::check(0..200, setup);
}

#[test]
fn a_seed_replays_its_trace() {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        setup(&mut sim);
        sim.run().unwrap_or_else(|f| panic!("{f}")).trace_text()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}
