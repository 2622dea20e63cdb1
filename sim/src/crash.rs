//! Hosts that crash and restart at set times (`Sim::crash`, `Sim::restart`).
//!
//! A crash ends every thread of the host where it stands, as a power cut does: no code of
//! its runs again, its I/O is abandoned, its handles are gone, and the transport forgets
//! its sockets without a word to their peers (`net::crash`). A restart boots the host
//! again with the same name and address and nothing else of its life before: a new main
//! thread, no handles, `WSAStartup` not called.

use crate::runtime;
use crate::thread::{Role, State};
use crate::trace::{Entry, Record};
use crate::{ThreadId, World};
use wsasim_model::{Handle, HostId};

/// A crash, or a restart with the main thread it runs, due at `at_ns`.
pub(crate) struct HostEvent {
    pub(crate) at_ns: u64,
    pub(crate) host: HostId,
    pub(crate) restart: Option<Box<dyn FnOnce()>>,
}

impl std::fmt::Debug for HostEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.restart.is_some() { "restart" } else { "crash" };
        write!(f, "{what} of host {} at {} ns", self.host, self.at_ns)
    }
}

impl World {
    /// When the next crash or restart is due.
    pub(crate) fn next_host_event(&self) -> Option<u64> {
        self.host_events.front().map(|e| e.at_ns)
    }

    /// Makes the crashes and restarts due by now, in the order they were set.
    pub(crate) fn host_events_due(&mut self) {
        // Made by no thread: what they do is traced in the network's name.
        self.current = ThreadId::NET;
        while self.host_events.front().is_some_and(|e| e.at_ns <= self.now_ns) {
            let event = self.host_events.pop_front().expect("just looked");
            match event.restart {
                None => self.crash_host(event.host),
                Some(main) => self.restart_host(event.host, main),
            }
        }
    }

    /// Whether the run is over: every client's main thread has ended (returned, or
    /// crashed with its host), and no client host is still to restart.
    pub(crate) fn clients_done(&self) -> bool {
        self.threads.iter().all(|t| t.role != Role::Client || matches!(t.state, State::Finished))
            && !self.host_events.iter().any(|e| e.restart.is_some() && self.hosts[e.host as usize].client)
    }

    fn crash_host(&mut self, host: HostId) {
        if self.net.is_down(host) {
            return;
        }
        let first = self.threads.iter().position(|t| t.host == host).expect("a host has a main thread");
        self.trace.push(Record { time_ns: self.now_ns, thread: ThreadId(first as u32), entry: Entry::Crash });
        self.end_host_threads(host);
        self.with_net(|net, cx| net.crash_host(cx, host));
        let handles: Vec<Handle> =
            self.kernel.open_handles().filter(|(_, info)| info.host == host).map(|(h, _)| h).collect();
        for h in handles {
            self.kernel.close(host, h).expect("an open handle");
        }
    }

    /// Boots `host` again (crashing it first if it is up), with `main` as its main thread.
    fn restart_host(&mut self, host: HostId, main: Box<dyn FnOnce()>) {
        self.crash_host(host);
        self.net.restart_host(host);
        let record = &self.hosts[host as usize];
        let role = if record.client { Role::Client } else { Role::Server };
        let name = format!("{}/main", record.name);
        let (thread, _) = runtime::add_thread(self, name, host, role, main);
        self.trace.push(Record { time_ns: self.now_ns, thread, entry: Entry::Restart });
    }
}
