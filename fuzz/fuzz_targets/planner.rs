//! The planner on a one-file root: applying its plan gives a file that is
//! valid for its format, and planning again plans nothing.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tlsmend_fuzz::plan_and_replan(data);
});
