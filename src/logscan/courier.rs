//! Courier MTA's per-message log lines, read so the scan's per-message table (sizes,
//! statuses, failure groups) works on Courier as it does on Postfix. Courier logs no
//! `status=` and no queue id in front of the message; its lines name the message with
//! `id=INODE.TIME.PID` (three hex fields):
//!
//! - courierd: `newmsg,id=ID: …`, `started,id=ID,…`, `completed,id=ID` (no outcome);
//! - a delivery module (courierlocal, courieresmtp, courierdsn) or courierd itself:
//!   `id=ID,from=<s>,addr=<r>: REASON` (the reason of a failed attempt, logged first; an
//!   empty reason also occurs), then `id=ID,from=<s>,addr=<r>,status: deferred|failure`;
//!   a delivery: `id=ID,from=<s>,addr=<r>,size=N,success: …` (courieresmtp adds
//!   `,status: success` after it).
//!
//! Only success lines carry a size: the sizes of deferred messages are in the queue
//! (facts/courier.rs). Pure: text in, fields out.

/// What one Courier line says about its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub id: &'a str,
    /// The id as a number, for the scan's message table (never equal to a packed Postfix id).
    pub key: u128,
    pub size: Option<i64>,
    /// `sent`, `deferred` or `bounced` (Postfix's words, which the scan counts by).
    pub status: Option<&'static str>,
    /// The reason text of a failed attempt (not empty).
    pub reason: Option<&'a str>,
    /// The recipient (`addr=<…>`).
    pub addr: Option<&'a str>,
}

/// The programs whose lines carry Courier message ids.
pub fn is_courier_program(program: Option<&str>) -> bool {
    matches!(program, Some("courierd" | "courierlocal" | "courieresmtp" | "courierdsn" | "courieruucp" | "courierfax"))
}

/// `INODE.TIME.PID`, each field 1 to 16 hex digits (Courier writes 16.16.8), as one number
/// with the top bit set (packed Postfix ids stay below 2^120).
pub fn pack_id(id: &str) -> Option<u128> {
    let mut parts = id.split('.');
    let (Some(a), Some(b), Some(c), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return None };
    let hex = |s: &str| (!s.is_empty() && s.len() <= 16).then(|| u64::from_str_radix(s, 16).ok()).flatten();
    let (ino, time, pid) = (hex(a)?, hex(b)?, hex(c)?);
    Some((1u128 << 127) | (u128::from(ino & ((1 << 63) - 1)) << 64) | (u128::from(time as u32) << 32) | u128::from(pid as u32))
}

/// Read a Courier line's message fields; `None` for a line of another program or without an id.
pub fn parse<'a>(program: Option<&str>, message: &'a str) -> Option<Line<'a>> {
    if !is_courier_program(program) {
        return None;
    }
    let at = if message.starts_with("id=") { 3 } else { message.find(",id=").filter(|&p| !message[..p].contains(' '))? + 4 };
    let rest = &message[at..];
    let end = rest.find([',', ':', ' ']).unwrap_or(rest.len());
    let id = &rest[..end];
    let key = pack_id(id)?;
    let mut line = Line { id, key, size: None, status: None, reason: None, addr: None };
    if at != 3 {
        // courierd's newmsg/started/completed: the message exists, nothing more.
        return Some(line);
    }
    let after = &rest[end..];
    // `,from=<…>,addr=<…>` then `,size=N,success: …`, `,status: X` or `: REASON`.
    let Some(addr_at) = after.find(",addr=<") else { return Some(line) };
    let tail = &after[addr_at + 7..];
    let Some(close) = tail.find('>') else { return Some(line) };
    line.addr = Some(&tail[..close]);
    let tail = &tail[close + 1..];
    if let Some(r) = tail.strip_prefix(": ") {
        let r = r.trim();
        line.reason = (!r.is_empty()).then_some(r);
    } else if let Some(s) = tail.strip_prefix(",status: ") {
        line.status = match s.trim() {
            "deferred" => Some("deferred"),
            "failure" => Some("bounced"),
            _ => None, // `success` follows a `,success:` line already counted
        };
    } else {
        let tail = match tail.strip_prefix(",size=") {
            Some(t) => {
                let n = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
                line.size = t[..n].parse().ok();
                &t[n..]
            }
            None => tail,
        };
        if tail.starts_with(",success:") {
            line.status = Some("sent");
        }
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines from tests/fixtures/captured/courier (a real Courier 1.0.16 in the lab).
    #[test]
    fn the_lines_of_a_deferred_and_a_delivered_message() {
        let id = "0000000000000059.000000006B119D30.000000CC";
        let r = parse(
            Some("courierlocal"),
            "id=0000000000000059.000000006B119D30.000000CC,from=<sender@lab.example>,addr=<alice@lab.example>: maildrop: Unable to create temporary file.",
        )
        .unwrap();
        assert_eq!(
            (r.id, r.reason, r.status, r.addr),
            (id, Some("maildrop: Unable to create temporary file."), None, Some("alice@lab.example"))
        );
        let s = parse(
            Some("courierlocal"),
            "id=0000000000000059.000000006B119D30.000000CC,from=<sender@lab.example>,addr=<alice@lab.example>,status: deferred",
        )
        .unwrap();
        assert_eq!((s.key, s.status, s.reason), (r.key, Some("deferred"), None));
        let ok = parse(
            Some("courierlocal"),
            "id=0000000000000054.000000006B119D30.000000C0,from=<sender@lab.example>,addr=<alice@lab.example>,size=1698,success: Message delivered.",
        )
        .unwrap();
        assert_eq!((ok.size, ok.status), (Some(1698), Some("sent")));
        assert_ne!(ok.key, r.key);
        let c = parse(Some("courierd"), "completed,id=0000000000000059.000000006B119D30.000000CC").unwrap();
        assert_eq!((c.key, c.status, c.reason), (r.key, None, None));
        let n = parse(
            Some("courierd"),
            "newmsg,id=0000000000000054.000000006B119D30.000000C0: dns; client.lab.example (localhost [::ffff:127.0.0.1])",
        )
        .unwrap();
        assert_eq!(n.key, ok.key);
    }

    #[test]
    fn an_empty_reason_and_courierd_own_deferral() {
        let e = parse(
            Some("courierlocal"),
            "id=0000000000000054.000000006B119D5D.000000C0,from=<sender@lab.example>,addr=<alice@lab.example>: ",
        )
        .unwrap();
        assert_eq!(e.reason, None);
        let d = parse(
            Some("courierd"),
            "id=0000000000000052.000000006B119D49.000000B3,from=<sender@lab.example>,addr=<alice@lab.example>: 450 Service temporarily unavailable.",
        )
        .unwrap();
        assert_eq!(d.reason, Some("450 Service temporarily unavailable."));
        let f = parse(
            Some("courieresmtp"),
            "id=000000000000007A.000000006B119DD8.000001B0,from=<sender@lab.example>,addr=<bob@nx.lab.example>,status: failure",
        )
        .unwrap();
        assert_eq!(f.status, Some("bounced"));
    }

    #[test]
    fn other_programs_and_bad_ids_are_not_courier_lines() {
        assert_eq!(parse(Some("postfix/local"), "id=0000000000000059.000000006B119D30.000000CC,from=<a>,addr=<b>,status: deferred"), None);
        assert_eq!(
            parse(Some("courierd"), "Waiting.  shutdown time=none, wakeup time=Thu Dec  3 16:52:46 2026, queuedelivering=8, inprogress=4"),
            None
        );
        assert_eq!(parse(Some("courierlocal"), "id=zz.1.2,from=<a>,addr=<b>,status: deferred"), None);
        assert_eq!(parse(Some("courieresmtpd"), "started,ip=[::ffff:127.0.0.1],port=[33708]"), None);
        assert!(pack_id("1.2.3").unwrap() >> 127 == 1);
    }
}
