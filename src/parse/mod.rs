//! Pure grammars: configuration and system text (`&str`) to plain structs. No `Fact`, no
//! `Bundle`, no I/O: producers and collectors both call these.

pub mod courier;
pub mod dns;
pub mod mailbox;
pub mod mailconf;
pub mod path;
pub mod postconf;
pub mod proc;
pub mod process;
pub mod syslogconf;
