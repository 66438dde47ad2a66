//! Protocol messages: any frame body decodes to a request or reply, or to a typed error; what
//! decodes encodes and decodes again to the same message.
#![no_main]

use haul_protocol::message::{Reply, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::decode(data) {
        let body = serde_json::to_vec(&request).expect("a request encodes");
        assert_eq!(Request::decode(&body).expect("decodes again"), request);
    }
    if let Ok(reply) = Reply::decode(data) {
        let again = Reply::decode(&reply.encode()).expect("a reply decodes again");
        assert_eq!(again, reply);
    }
});
