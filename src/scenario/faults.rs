//! A scenario file's `[faults]`: what the network gets wrong (`Sim::loss` and the rest),
//! which hosts crash, and the errors injected into calls, checked against the file's hosts
//! and the calls' documented errors before anything runs.
//!
//! ```toml
//! [faults]
//! loss = 0.1             # every link between hosts
//! duplicate = 0.05
//! reorder = 0.1
//! reset = 0.01           # a TCP segment makes the network reset its connection
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
//!
//! [[faults.crash]]       # down at 3 s, up again at 4 s, its scripts run anew
//! host = "srv"           # (no `restart_ms`: it stays down)
//! at_ms = 3000
//! restart_ms = 4000
//!
//! [[faults.inject]]      # one WSASend in twenty fails with WSAENOBUFS
//! call = "WSASend"
//! error = "WSAENOBUFS"
//! chance = 0.05
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
    pub reset: Option<Spanned<f64>>,
    #[serde(default)]
    pub link: Vec<Link>,
    #[serde(default)]
    pub partition: Vec<PartitionTable>,
    #[serde(default)]
    pub crash: Vec<CrashTable>,
    #[serde(default)]
    pub inject: Vec<InjectTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub hosts: Spanned<Vec<Spanned<String>>>,
    pub loss: Option<Spanned<f64>>,
    pub duplicate: Option<Spanned<f64>>,
    pub reorder: Option<Spanned<f64>>,
    pub reset: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionTable {
    pub at_ms: Spanned<u64>,
    pub heal_ms: Option<Spanned<u64>>,
    pub a: Spanned<Vec<Spanned<String>>>,
    pub b: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashTable {
    pub host: Spanned<String>,
    pub at_ms: Spanned<u64>,
    pub restart_ms: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectTable {
    pub call: Spanned<String>,
    pub error: Spanned<String>,
    pub chance: Spanned<f64>,
}

/// The faults of a checked scenario, ready for each seed's `Sim`.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    all: [Option<f64>; 4],
    links: Vec<(String, String, [Option<f64>; 4])>,
    partitions: Vec<(Duration, Duration, Vec<String>, Vec<String>)>,
    /// Which host, when it crashes, and when it restarts.
    crashes: Vec<(String, Duration, Option<Duration>)>,
    injections: Vec<(String, u32, f64)>,
}

/// A problem at an offset of the file.
pub type Problem = (usize, String);

impl FaultsTable {
    /// Checks the table: chances from 0 to 1, links of two known hosts, partitions that
    /// heal after they start, between known hosts on one side each, crashes of known hosts
    /// that restart after they crash (only hosts of `[[host]]`, whose scripts can run
    /// again: `scripted`), errors a call documents. `known` says whether a host of that
    /// name exists.
    pub fn check(&self, known: &dyn Fn(&str) -> bool, scripted: bool) -> Result<Faults, Problem> {
        let host = |name: &Spanned<String>| match known(name.get_ref()) {
            true => Ok(name.get_ref().clone()),
            false => Err((name.span().start, format!("no host is named {:?}", name.get_ref()))),
        };
        let mut faults = Faults {
            all: chances([&self.loss, &self.duplicate, &self.reorder, &self.reset])?,
            ..Faults::default()
        };
        for link in &self.link {
            let [a, b] = link.hosts.get_ref().as_slice() else {
                return Err((link.hosts.span().start, "hosts: expected two host names".into()));
            };
            if a.get_ref() == b.get_ref() {
                // A host's loopback makes no fault.
                return Err((
                    b.span().start,
                    format!("hosts: expected two hosts, not {:?} twice", b.get_ref()),
                ));
            }
            let link_chances = chances([&link.loss, &link.duplicate, &link.reorder, &link.reset])?;
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
        for c in &self.crash {
            let at = *c.at_ms.get_ref();
            let restart = match &c.restart_ms {
                Some(r) if !scripted => {
                    return Err((r.span().start, "restart_ms: a program's hosts restart from Rust (Sim::restart), not from a scenario file".into()));
                }
                Some(r) if *r.get_ref() <= at => {
                    return Err((
                        r.span().start,
                        format!("restart_ms = {}: expected more than at_ms = {at}", r.get_ref()),
                    ));
                }
                r => r.as_ref().map(|r| Duration::from_millis(*r.get_ref())),
            };
            faults.crashes.push((host(&c.host)?, Duration::from_millis(at), restart));
        }
        for i in &self.inject {
            let name = i.error.get_ref();
            let error =
                wsasim_sim::names::value_of(name).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| {
                    (
                        i.error.span().start,
                        format!("error = {name:?}: expected an error's name, such as \"WSAENOBUFS\""),
                    )
                })?;
            wsasim_sim::injectable(i.call.get_ref(), error).map_err(|m| (i.call.span().start, m))?;
            faults.injections.push((i.call.get_ref().clone(), error, chance("chance", &i.chance)?));
        }
        Ok(faults)
    }
}

/// The chances of loss, duplication, reordering and resets, each from 0 to 1.
fn chances(given: [&Option<Spanned<f64>>; 4]) -> Result<[Option<f64>; 4], Problem> {
    let mut out = [None; 4];
    for ((key, c), out) in ["loss", "duplicate", "reorder", "reset"].into_iter().zip(given).zip(&mut out) {
        *out = c.as_ref().map(|p| chance(key, p)).transpose()?;
    }
    Ok(out)
}

/// A chance `key` from 0 to 1.
fn chance(key: &str, p: &Spanned<f64>) -> Result<f64, Problem> {
    match (0.0..=1.0).contains(p.get_ref()) {
        true => Ok(*p.get_ref()),
        false => {
            Err((p.span().start, format!("{key} = {}: expected a probability from 0 to 1", p.get_ref())))
        }
    }
}

impl Faults {
    /// Which hosts crash, when, and when they restart.
    pub fn crashes(&self) -> &[(String, Duration, Option<Duration>)] {
        &self.crashes
    }

    /// Gives `sim` these faults.
    pub fn apply(&self, sim: &mut Sim) {
        let [loss, duplicate, reorder, reset] = self.all;
        if let Some(p) = loss {
            sim.loss(p);
        }
        if let Some(p) = duplicate {
            sim.duplicate(p);
        }
        if let Some(p) = reorder {
            sim.reorder(p);
        }
        if let Some(p) = reset {
            sim.reset(p);
        }
        for (a, b, [loss, duplicate, reorder, reset]) in &self.links {
            if let Some(p) = loss {
                sim.link_loss(a, b, *p);
            }
            if let Some(p) = duplicate {
                sim.link_duplicate(a, b, *p);
            }
            if let Some(p) = reorder {
                sim.link_reorder(a, b, *p);
            }
            if let Some(p) = reset {
                sim.link_reset(a, b, *p);
            }
        }
        for (at, heal, a, b) in &self.partitions {
            let (a, b): (Vec<&str>, Vec<&str>) =
                (a.iter().map(String::as_str).collect(), b.iter().map(String::as_str).collect());
            sim.partition(*at, *heal, &a, &b);
        }
        for (call, error, p) in &self.injections {
            sim.inject(call, *error, *p);
        }
    }
}
