//! wsasim's integration tests: one binary, one module per subject. Each Win32 rule's test
//! names its source: the Microsoft page ("Doc: WSARecv") or the Wine conformance test that
//! showed it on Windows ("Wine sock.c test_WSARecv").

// The tests call the Win32 surface as programs do, through `unsafe` blocks whose pointers are
// the tests' own live locals; a SAFETY line on each would say that every time.
#![allow(clippy::undocumented_unsafe_blocks)]

mod addresses;
mod apcs;
mod arguments;
mod crash;
mod echo;
mod echo_workload;
mod events;
mod exploration;
mod faults;
mod harness;
mod host_symbols;
mod inject;
mod ioctl;
mod keepalive;
mod long_bugs;
mod misuse;
mod network_events;
mod overlapped;
mod planted_bugs;
mod poll;
mod resolve;
mod runner;
mod scenario_inputs;
mod scenarios;
mod select_echo;
mod shrink;
mod start_order;
mod tcp;
mod tcp_close;
mod threads;
mod udp;
mod waits;
mod win32_threads;
