//! haul's end-to-end suite: one test binary, one module per area, fixtures from `haul_tests`.
//! Every test runs real components — the daemon, its socket, HTTPS over loopback — in a
//! temporary `HAUL_HOME`.

mod grab;
