//! `haul-native-host`: launched by the browser for the extension; relays frames between the
//! browser's stdio and the haul daemon's local socket. (Built out by the browser-handoff work.)

fn main() {
    eprintln!(
        "haul-native-host {}: not yet wired to the daemon",
        haul_protocol::VERSION
    );
    std::process::exit(1);
}
