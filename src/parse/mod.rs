//! Pure grammars: configuration and system text (`&str`) to plain structs. No `Fact`, no
//! `Bundle`, no I/O: producers and collectors both call these.

pub mod syslogconf;
