//! Ldif: no panic, no hang, and accepted input prints back byte for byte.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tlsmend_fuzz::roundtrip(tlsmend::syntax::Syntax::Ldif, data);
});
