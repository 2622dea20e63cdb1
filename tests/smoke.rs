use wsasim::Win32::Foundation::HANDLE;
use wsasim::Win32::Networking::WinSock::*;

#[test]
fn setter_wakes_waiter() {
    wsasim::check(0..500, |sim| {
        sim.client("a", "192.0.2.1", || unsafe {
            let ev = WSACreateEvent();
            let t = wsasim::thread::spawn(move || {
                WSASetEvent(ev);
            });
            let r = WSAWaitForMultipleEvents(1, &(ev as HANDLE), 0, 1000, 0);
            assert_eq!(r, WSA_WAIT_EVENT_0 as u32);
            t.join().unwrap();
            WSACloseEvent(ev);
        });
    });
}

#[test]
fn show_trace() {
    let mut sim = wsasim::Sim::new(3);
    sim.client("a", "192.0.2.1", || unsafe {
        let ev = WSACreateEvent();
        let t = wsasim::thread::spawn(move || {
            WSASetEvent(ev);
        });
        let r = WSAWaitForMultipleEvents(1, &(ev as HANDLE), 0, 1000, 0);
        assert_eq!(r, WSA_WAIT_EVENT_0 as u32);
        t.join().unwrap();
        WSACloseEvent(ev);
    });
    let o = sim.run().unwrap();
    println!("{}", o.trace_text());
}
