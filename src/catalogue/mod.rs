//! The rule catalogue: what each rule is (id, servers, severity, whether it
//! is on by default, the versions it needs, its sources) and the profiles'
//! values as data. It sits below the servers and imports none of them; each
//! server's rules point here for their metadata.

pub mod profile;
pub mod rule;
