//! Paths on the inspected system as text: lexical normalisation and symlink targets made
//! absolute. No filesystem access.

/// The absolute path a symlink at `link` with target `target` points to, normalised
/// lexically (`/etc/ssl/certs/x.pem` → `../private/y.pem` gives `/etc/ssl/private/y.pem`).
pub fn resolve_link(link: &str, target: &str) -> String {
    let base = if target.starts_with('/') { "" } else { link.rsplit_once('/').map_or("", |(d, _)| d) };
    normalize(&format!("{base}/{target}"))
}

/// `/var/log//mail.log`, `/var/log/./mail.log` → `/var/log/mail.log` (`..` goes up, never
/// above `/`).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}
