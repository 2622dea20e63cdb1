//! A scenario file's `[faults]`: what the network gets wrong (`Sim::loss` and the rest),
//! checked against the file's hosts before anything runs.
//!
//! ```toml
//! [faults]
//! loss = 0.1             # every link between hosts
//! duplicate = 0.05
//! reorder = 0.1
//!
//! [[faults.link]]        # one pair of hosts, over the above
//! hosts = ["cli", "srv"]
//! loss = 0.5
//!
//! [[faults.partition]]   # `a` cut off from `b` from 5 ms until 2 s (no `heal_ms`: for good)
//! at_ms = 5
//! heal_ms = 2000
//! a = ["cli"]
//! b = ["srv"]
//! ```

use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;
use wsasim_sim::Sim;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsTable {
    pub loss: Option<Spanned<f64>>,
    pub duplicate: Option<Spanned<f64>>,
    pub reorder: Option<Spanned<f64>>,
    #[serde(default)]
    pub link: Vec<Link>,
    #[serde(default)]
    pub partition: Vec<PartitionTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub hosts: Spanned<Vec<Spanned<String>>>,
    pub loss: Option<Spanned<f64>>,
    pub duplicate: Option<Spanned<f64>>,
    pub reorder: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionTable {
    pub at_ms: Spanned<u64>,
    pub heal_ms: Option<Spanned<u64>>,
    pub a: Spanned<Vec<Spanned<String>>>,
    pub b: Spanned<Vec<Spanned<String>>>,
}

/// The faults of a checked scenario, ready for each seed's `Sim`.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    all: [Option<f64>; 3],
    links: Vec<(String, String, [Option<f64>; 3])>,
    partitions: Vec<(Duration, Duration, Vec<String>, Vec<String>)>,
}

/// A problem at an offset of the file.
pub type Problem = (usize, String);

impl FaultsTable {
    /// Checks the table: chances from 0 to 1, links of two known hosts, partitions that
    /// heal after they start, between known hosts on one side each. `known` says whether a
    /// host of that name exists.
    pub fn check(&self, known: &dyn Fn(&str) -> bool) -> Result<Faults, Problem> {
        let host = |name: &Spanned<String>| match known(name.get_ref()) {
            true => Ok(name.get_ref().clone()),
            false => Err((name.span().start, format!("no host is named {:?}", name.get_ref()))),
        };
        let mut faults =
            Faults { all: chances([&self.loss, &self.duplicate, &self.reorder])?, ..Faults::default() };
        for link in &self.link {
            let [a, b] = link.hosts.get_ref().as_slice() else {
                return Err((link.hosts.span().start, "hosts: expected two host names".into()));
            };
            let link_chances = chances([&link.loss, &link.duplicate, &link.reorder])?;
            faults.links.push((host(a)?, host(b)?, link_chances));
        }
        for p in &self.partition {
            let at = *p.at_ms.get_ref();
            let heal = match &p.heal_ms {
                Some(h) if *h.get_ref() <= at => {
                    return Err((
                        h.span().start,
                        format!("heal_ms = {}: expected more than at_ms = {at}", h.get_ref()),
                    ));
                }
                Some(h) => Duration::from_millis(*h.get_ref()),
                None => Duration::MAX,
            };
            let side = |names: &Spanned<Vec<Spanned<String>>>| {
                if names.get_ref().is_empty() {
                    return Err((names.span().start, "expected at least one host name".to_owned()));
                }
                names.get_ref().iter().map(host).collect::<Result<Vec<_>, _>>()
            };
            let (a, b) = (side(&p.a)?, side(&p.b)?);
            if let Some(both) = p.b.get_ref().iter().find(|n| a.contains(n.get_ref())) {
                return Err((both.span().start, format!("{:?} is on both sides", both.get_ref())));
            }
            faults.partitions.push((Duration::from_millis(at), heal, a, b));
        }
        Ok(faults)
    }
}

/// The chances of loss, duplication and reordering, each from 0 to 1.
fn chances(given: [&Option<Spanned<f64>>; 3]) -> Result<[Option<f64>; 3], Problem> {
    let mut out = [None; 3];
    for ((key, c), out) in ["loss", "duplicate", "reorder"].into_iter().zip(given).zip(&mut out) {
        if let Some(p) = c {
            if !(0.0..=1.0).contains(p.get_ref()) {
                let message = format!("{key} = {}: expected a probability from 0 to 1", p.get_ref());
                return Err((p.span().start, message));
            }
            *out = Some(*p.get_ref());
        }
    }
    Ok(out)
}

impl Faults {
    /// Gives `sim` these faults.
    pub fn apply(&self, sim: &mut Sim) {
        let [loss, duplicate, reorder] = self.all;
        if let Some(p) = loss {
            sim.loss(p);
        }
        if let Some(p) = duplicate {
            sim.duplicate(p);
        }
        if let Some(p) = reorder {
            sim.reorder(p);
        }
        for (a, b, [loss, duplicate, reorder]) in &self.links {
            if let Some(p) = loss {
                sim.link_loss(a, b, *p);
            }
            if let Some(p) = duplicate {
                sim.link_duplicate(a, b, *p);
            }
            if let Some(p) = reorder {
                sim.link_reorder(a, b, *p);
            }
        }
        for (at, heal, a, b) in &self.partitions {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (a.iter().map(String::as_str).collect(), b.iter().map(String::as_str).collect());
            sim.partition(*at, *heal, &a, &b);
        }
    }
}
